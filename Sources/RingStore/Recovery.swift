/// Bringing a ring's state back after a crash or damage.
enum Recovery {
    /// A crash between making room in the suffix and writing the checkpoint can leave the
    /// checkpoint's oldest suffix records overwritten by frames that were never acknowledged.
    /// Moves the tail to the first intact record, counting what was lost as rolled over.
    static func repairTail(of state: inout RingState, superblock: Superblock, window: inout FrameWindow) throws {
        guard state.sealed, state.used > 0 else { return }
        var walker = RegionWalker(Region.suffix(of: superblock, state))
        let expected = state.tailSeq
        if case let .frame(frame) = try walker.step(&window), frame.header.seq == expected {
            return
        }
        walker = RegionWalker(Region.suffix(of: superblock, state))
        if let frame = try walker.resync(&window, accept: { $0 > expected }) {
            let region = walker.region
            let skipped = region.logical(ofAbsolute: frame.offset)
            state.tail = (state.tail + skipped) % superblock.suffixCapacity
            state.used -= skipped
            state.counters.rolledRecords += frame.header.seq - expected
            state.tailSeq = frame.header.seq
        } else {
            state.counters.rolledRecords += state.nextSeq - expected
            state.tail = state.head == superblock.suffixCapacity ? 0 : state.head
            state.used = 0
            state.tailSeq = state.nextSeq
        }
    }

    /// Rebuilds the state from the frames alone, for a file whose two checkpoint slots are both
    /// damaged. The source position is then unknown (empty), and byte counters start afresh.
    static func scan(superblock: Superblock, window: inout FrameWindow) throws -> RingState {
        var state = RingState()
        let prefixLimit = superblock.prefixStart + superblock.prefixCapacity
        while let frame = try window.frame(at: superblock.prefixStart + state.prefixEnd, limit: prefixLimit),
              frame.header.type != .wrap, frame.header.seq == state.nextSeq {
            if state.nextSeq == 0 { state.firstTimestamp = frame.header.timestamp }
            state.prefixEnd += frame.header.frameSize
            state.nextSeq += 1
            state.prefixLastTimestamp = frame.header.timestamp
            state.lastTimestamp = frame.header.timestamp
        }
        let prefixCount = state.nextSeq

        struct Found { var offset: UInt64, end: UInt64, seq: UInt64, timestamp: Int64 }
        var found: [UInt64: Found] = [:]
        let capacity = superblock.suffixCapacity
        var position: UInt64 = 0
        while position + UInt64(RingFormat.frameHeaderSize) <= capacity,
              let frame = try window.findFrame(from: superblock.suffixStart + position, limit: superblock.suffixStart + capacity,
                                               maxScan: .max, accept: { $0.type != .wrap && $0.seq >= prefixCount }) {
            let offset = frame.offset - superblock.suffixStart
            found[frame.header.seq] = Found(offset: offset, end: offset + frame.header.frameSize,
                                            seq: frame.header.seq, timestamp: frame.header.timestamp)
            position = offset + frame.header.frameSize
        }
        guard let newest = found.keys.max(), let last = found[newest] else { return state }
        var oldest = newest
        while oldest > prefixCount, found[oldest - 1] != nil { oldest -= 1 }
        state.sealed = true
        state.firstSuffixSeq = prefixCount
        state.tailSeq = oldest
        state.tail = found[oldest]!.offset
        state.head = last.end == capacity ? 0 : last.end
        state.used = (state.head + capacity - state.tail) % capacity
        if state.used == 0 { state.used = capacity }
        state.nextSeq = newest + 1
        state.lastTimestamp = last.timestamp
        state.counters.rolledRecords = oldest - prefixCount
        state.counters.recordsWritten = state.nextSeq
        return state
    }

    /// Frames a crashed writer wrote after its last checkpoint were never acknowledged; their
    /// sequence numbers will be given again. Erases their headers before writing resumes, so
    /// that a reader searching for a record boundary can never mistake one for a live record.
    static func scrubUncommitted(_ state: RingState, superblock: Superblock, file: RawFile, window: inout FrameWindow) throws {
        let zeros = [UInt8](repeating: 0, count: RingFormat.frameHeaderSize)
        var scrubbed = false
        func scrub(base: UInt64, capacity: UInt64, from start: UInt64, wraps: Bool) throws {
            var offset = start
            var erased: UInt64 = 0
            while erased < capacity {
                if capacity - offset < UInt64(RingFormat.frameHeaderSize) {
                    guard wraps else { return }
                    offset = 0
                    continue
                }
                guard let frame = try window.frame(at: base + offset, limit: base + capacity),
                      frame.header.seq >= state.nextSeq else { return }
                try file.write(zeros, at: frame.offset)
                scrubbed = true
                window.invalidate()
                let size = frame.header.type == .wrap ? capacity - offset : frame.header.frameSize
                erased += size
                offset = (offset + size) % capacity
            }
        }
        if !state.sealed {
            try scrub(base: superblock.prefixStart, capacity: superblock.prefixCapacity, from: state.prefixEnd, wraps: false)
        }
        try scrub(base: superblock.suffixStart, capacity: superblock.suffixCapacity, from: state.sealed ? state.head : 0, wraps: true)
        if scrubbed { try file.syncData() }
    }
}
