/// The open block's frames, read back from their staging half when it is sealed, as a block's
/// body. A staged frame that fails its checksum (damage on disk since it was written) becomes a
/// `damaged` entry in the block: its sequence number stays taken, and readers see a `corrupt`
/// gap there, never a record that was not written.
enum StagedFrames {
    private enum Part {
        case frame(FrameHeader, payloadStart: Int)
        case lost(UInt64)
    }

    static func block(from bytes: [UInt8], seqs: Range<UInt64>, checksum: Checksum, timeBefore: Int64) -> BlockBuilder {
        bytes.withUnsafeBytes { raw in
            let parts = frames(in: raw, seqs: seqs, checksum: checksum)
            var time = parts.lazy.compactMap { part -> Int64? in
                if case let .frame(header, _) = part { header.timestamp } else { nil }
            }.first ?? timeBefore
            var builder = BlockBuilder(firstSeq: seqs.lowerBound, firstTimestamp: time, capacity: bytes.count)
            for part in parts {
                switch part {
                case let .frame(header, start):
                    let payload = UnsafeRawBufferPointer(rebasing: raw[start..<(start + Int(header.length))])
                    builder.add(kind: header.type == .drop ? .drop : .log, timestamp: header.timestamp, stream: header.stream,
                                flags: header.flags, payload: payload)
                    time = header.timestamp
                case let .lost(count):
                    for _ in 0..<count {
                        builder.add(kind: .damaged, timestamp: time, stream: 0, flags: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0))
                    }
                }
            }
            return builder
        }
    }

    /// The frames of `seqs` in order, and runs of those that failed their checksums.
    private static func frames(in raw: UnsafeRawBufferPointer, seqs: Range<UInt64>, checksum: Checksum) -> [Part] {
        func valid(at offset: Int) -> FrameHeader? {
            let headerSize = RingFormat.frameHeaderSize
            guard offset + headerSize <= raw.count,
                  let header = FrameHeader.parse(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + headerSize)])),
                  header.type == .log || header.type == .drop, seqs.contains(header.seq),
                  offset + headerSize + Int(header.length) <= raw.count,
                  checksum.of(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + headerSize + Int(header.length))])) == header.checksum
            else { return nil }
            return header
        }
        var parts: [Part] = []
        var offset = 0
        var expected = seqs.lowerBound
        while expected < seqs.upperBound {
            if let header = valid(at: offset), header.seq == expected {
                parts.append(.frame(header, payloadStart: offset + RingFormat.frameHeaderSize))
                offset += Int(header.frameSize)
                expected += 1
                continue
            }
            // Damage: find the next intact frame of this block at 8-byte steps (from here: the
            // frame here may be intact, with a later number).
            var probe = offset
            var next: FrameHeader?
            while next == nil, probe + RingFormat.frameHeaderSize <= raw.count {
                if let header = valid(at: probe), header.seq > expected { next = header } else { probe += Int(RingFormat.frameAlignment) }
            }
            guard let found = next else {
                parts.append(.lost(seqs.upperBound - expected))
                break
            }
            parts.append(.lost(found.seq - expected))
            expected = found.seq
            offset = probe
        }
        return parts
    }
}
