/// Where a folded ring lives: an entry of its job's history file (docs/ring-format.md,
/// "History files").
struct FoldedPlace: Sendable {
    let history: HistoryFile
    let offset: UInt64
    /// The entry's bytes: what the run costs on disk.
    let size: UInt64
    /// Where its record is in the history's run index.
    let record: UInt64
}

extension Ring {
    /// A folded ring, read from its history entry with the same reader as a ring file: its
    /// regions are the entry's, its id and sequence numbers the ring's, so cursors still resume.
    convenience init(folded entry: FoldedEntry, in history: HistoryFile, record: UInt64) throws {
        try self.init(file: history.file, superblock: entry.superblock, state: entry.state, metadata: entry.metadata,
                      metadataGeneration: 1, checkpointGeneration: 1, writable: false,
                      folded: FoldedPlace(history: history, offset: entry.offset, size: entry.size, record: record))
    }

    /// Whether this ring may fold: a ring file, finished, its last block sealed, and at most
    /// `maxBytes` of frames. Its state alone says: nothing is read.
    func isFoldCandidate(maxBytes: UInt64) -> Bool {
        guard folded == nil, writable else { return false }
        let (state, deleted) = shared.withLock { ($0.state, $0.deleted) }
        return !deleted && state.finished && state.stagingEnd == 0 && state.blockedSeq == state.nextSeq
            && state.prefixEnd + (state.prefixSealed ? state.used : 0) <= maxBytes
    }

    /// This ring's readable frames laid flat for its job's history; nil when it keeps its ring
    /// file: not a candidate, or damage in its regions (read as gaps from its ring file, never
    /// copied).
    func foldImage(maxBytes: UInt64) throws -> FoldImage? {
        guard isFoldCandidate(maxBytes: maxBytes) else { return nil }
        let (state, metadata) = shared.withLock { ($0.state, $0.metadata) }
        var window = FrameWindow(file: file, superblock: superblock)
        guard let (prefix, walked) = try frames(of: Region.prefix(of: superblock, state), window: &window), walked == state.prefixEnd,
              let (suffix, _) = try frames(of: Region.suffix(of: superblock, state), window: &window)
        else { return nil }
        var flat = state
        flat.prefixEnd = UInt64(prefix.count)
        flat.tail = 0
        flat.head = UInt64(suffix.count)
        flat.used = flat.head
        flat.stagingHalf = 0
        // Kept: the journal's ingest resumes after the newest position of any ring, folded or not.
        return FoldImage(id: id, superblock: superblock, state: flat, metadata: metadata, info: try info(), prefix: prefix, suffix: suffix)
    }

    /// A region's frames in order, unwrapped (wrap frames and the slack after them left out),
    /// blocks compressed again harder; and how many bytes of the region were walked. Nil at the
    /// first frame that is not intact.
    private func frames(of region: Region, window: inout FrameWindow) throws -> (frames: [UInt8], walked: UInt64)? {
        var walker = RegionWalker(region)
        var bytes: [UInt8] = []
        var walked: UInt64 = 0
        while true {
            switch try walker.step(&window) {
            case .end: return (bytes, walked)
            case .damaged: return nil
            case let .frame(frame):
                walked += frame.header.frameSize
                if let harder = recompressed(frame, in: window) {
                    bytes += harder
                } else {
                    bytes += try file.read(count: Int(frame.header.frameSize), at: frame.offset)
                }
            }
        }
    }

    /// A block frame whose body is compressed again at `foldLevel`, same records, sequence
    /// numbers and header; nil when it is not a block, does not decode, or would not shrink.
    /// A ring seals at level 1, on the thread that appends; a fold runs once per run, on a
    /// thread of its own, where a harder level costs little (measured: docs/performance.md).
    private func recompressed(_ frame: FrameWindow.Frame, in window: FrameWindow) -> [UInt8]? {
        guard frame.header.type == .block, let codec = BlockCodec.Codec(rawValue: frame.header.stream) else { return nil }
        return window.withPayload(of: frame) { payload -> [UInt8]? in
            guard let header = BlockHeader(payload), UInt64(header.decodedSize) <= superblock.stagingCapacity else { return nil }
            let stored = UnsafeRawBufferPointer(rebasing: payload[BlockHeader.size...])
            let body: [UInt8]? = switch codec {
            case .stored: Array(stored)
            case .zstd: BlockCodec.decompress(stored, size: Int(header.decodedSize))
            }
            guard let body, body.count == Int(header.decodedSize),
                  let harder = body.withUnsafeBytes({ BlockCodec.compress($0, level: Ring.foldLevel) }), harder.count < stored.count
            else { return nil }
            let newPayload = header.encoded() + harder
            var out: [UInt8] = []
            let frameHeader = FrameHeader(length: UInt32(newPayload.count), seq: frame.header.seq, timestamp: frame.header.timestamp,
                                          type: .block, stream: BlockCodec.Codec.zstd.rawValue, flags: 0)
            newPayload.withUnsafeBytes { frameHeader.append(payload: $0, to: &out, checksum: checksum) }
            return out
        }
    }

    /// On the benchmark corpus zstd level 9 keeps 83 to 90 % of what level 19 gains over level 1
    /// (64 KiB and 4 KiB pieces) at a fifteenth of its time: about 1 ms for 64 KiB.
    static let foldLevel: Int32 = 9
}
