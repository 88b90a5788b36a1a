/// Bringing a ring's state back after a crash or damage.
enum Recovery {
    /// A crash between making room in the suffix and writing the checkpoint can leave the
    /// checkpoint's oldest suffix records overwritten by frames that were never acknowledged.
    /// Moves the tail to the first intact record, counting what was lost as rolled over.
    static func repairTail(of state: inout RingState, superblock: Superblock, window: inout FrameWindow) throws {
        guard state.prefixSealed, state.used > 0 else { return }
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
            state.counters.rolledRecords += state.blockedSeq - expected
            state.tail = state.head == superblock.suffixCapacity ? 0 : state.head
            state.used = 0
            state.tailSeq = state.blockedSeq
        }
    }

    /// Rebuilds the state from the frames alone, for a file whose two checkpoint slots are both
    /// damaged. The source position is then unknown (empty), and byte counters start afresh.
    static func scan(superblock: Superblock, window: inout FrameWindow) throws -> RingState {
        var state = RingState()
        let prefixLimit = superblock.prefixStart + superblock.prefixCapacity
        while let frame = try window.frame(at: superblock.prefixStart + state.prefixEnd, limit: prefixLimit),
              frame.header.type != .wrap, frame.header.seq == state.nextSeq,
              let (count, _) = window.records(in: frame), count > 0 {
            if state.nextSeq == 0 { state.firstTimestamp = frame.header.timestamp }
            state.prefixEnd += frame.header.frameSize
            state.nextSeq += count
            state.prefixLastTimestamp = window.blockHeader(of: frame)?.lastTimestamp ?? frame.header.timestamp
            state.lastTimestamp = state.prefixLastTimestamp
        }
        let prefixCount = state.nextSeq

        struct Found { var offset: UInt64, end: UInt64, seq: UInt64, count: UInt64, lastTimestamp: Int64 }
        var byEnd: [UInt64: Found] = [:]
        let capacity = superblock.suffixCapacity
        var position: UInt64 = 0
        while position + UInt64(RingFormat.frameHeaderSize) <= capacity,
              let frame = try window.findFrame(from: superblock.suffixStart + position, limit: superblock.suffixStart + capacity,
                                               maxScan: .max, accept: { $0.type != .wrap && $0.seq >= prefixCount }) {
            let offset = frame.offset - superblock.suffixStart
            if let (count, _) = window.records(in: frame), count > 0 {
                let seq = frame.header.seq
                byEnd[seq + count] = Found(offset: offset, end: offset + frame.header.frameSize, seq: seq, count: count,
                                           lastTimestamp: window.blockHeader(of: frame)?.lastTimestamp ?? frame.header.timestamp)
            }
            position = offset + frame.header.frameSize
        }
        state.blockedSeq = prefixCount
        if let newestEnd = byEnd.keys.max(), let last = byEnd[newestEnd] {
            var oldest = last
            while oldest.seq > prefixCount, let before = byEnd[oldest.seq] { oldest = before }
            state.prefixSealed = true
            state.firstSuffixSeq = prefixCount
            state.tailSeq = oldest.seq
            state.tail = oldest.offset
            state.head = last.end == capacity ? 0 : last.end
            state.used = (state.head + capacity - state.tail) % capacity
            if state.used == 0 { state.used = capacity }
            state.nextSeq = newestEnd
            state.blockedSeq = newestEnd
            state.lastTimestamp = last.lastTimestamp
            state.counters.rolledRecords = oldest.seq - prefixCount
        }
        if superblock.hasBlocks { try scanStaging(&state, superblock: superblock, window: &window) }
        state.counters.recordsWritten = state.nextSeq
        return state
    }

    /// The open block, for `scan`: the staging half whose frames continue the blocks furthest.
    private static func scanStaging(_ state: inout RingState, superblock: Superblock, window: inout FrameWindow) throws {
        var best: (half: UInt64, end: UInt64, next: UInt64, payload: UInt64, firstTimestamp: Int64, lastTimestamp: Int64)?
        for half in UInt64(0)...1 {
            let base = superblock.stagingStart + half * superblock.stagingCapacity
            var (end, next, payload, lastTimestamp) = (UInt64(0), state.blockedSeq, UInt64(0), state.lastTimestamp)
            var firstTimestamp: Int64?
            while let frame = try window.frame(at: base + end, limit: base + superblock.stagingCapacity),
                  frame.header.type == .log || frame.header.type == .drop, frame.header.seq == next {
                end += frame.header.frameSize
                next += 1
                payload += UInt64(frame.header.length)
                firstTimestamp = firstTimestamp ?? frame.header.timestamp
                lastTimestamp = frame.header.timestamp
            }
            if next > (best?.next ?? state.blockedSeq) { best = (half, end, next, payload, firstTimestamp ?? 0, lastTimestamp) }
        }
        guard let best else { return }
        if state.nextSeq == 0 { state.firstTimestamp = best.firstTimestamp }
        state.stagingHalf = best.half
        state.stagingEnd = best.end
        state.openPayload = best.payload
        state.nextSeq = best.next
        state.lastTimestamp = best.lastTimestamp
    }

    /// Frames a crashed writer wrote after its last checkpoint were never acknowledged; their
    /// sequence numbers will be given again. Erases their headers before writing resumes, so
    /// that a reader searching for a record boundary can never mistake one for a live record:
    /// region frames at or after the blocked number (a block sealed but not committed starts
    /// there), and staged frames at or after the next number, in both staging halves.
    static func scrubUncommitted(_ state: RingState, superblock: Superblock, file: RawFile, window: inout FrameWindow) throws {
        let zeros = [UInt8](repeating: 0, count: RingFormat.frameHeaderSize)
        var scrubbed = false
        func scrub(base: UInt64, capacity: UInt64, from start: UInt64, wraps: Bool, uncommittedFrom: UInt64) throws {
            var offset = start
            var erased: UInt64 = 0
            while erased < capacity {
                if capacity - offset < UInt64(RingFormat.frameHeaderSize) {
                    guard wraps else { return }
                    offset = 0
                    continue
                }
                guard let frame = try window.frame(at: base + offset, limit: base + capacity),
                      frame.header.seq >= uncommittedFrom else { return }
                try file.write(zeros, at: frame.offset)
                scrubbed = true
                window.invalidate()
                let size = frame.header.type == .wrap ? capacity - offset : frame.header.frameSize
                erased += size
                offset = (offset + size) % capacity
            }
        }
        if !state.prefixSealed {
            try scrub(base: superblock.prefixStart, capacity: superblock.prefixCapacity, from: state.prefixEnd, wraps: false,
                      uncommittedFrom: state.blockedSeq)
        }
        try scrub(base: superblock.suffixStart, capacity: superblock.suffixCapacity, from: state.prefixSealed ? state.head : 0, wraps: true,
                  uncommittedFrom: state.blockedSeq)
        if superblock.hasBlocks {
            for half in UInt64(0)...1 {
                try scrub(base: superblock.stagingStart + half * superblock.stagingCapacity, capacity: superblock.stagingCapacity,
                          from: half == state.stagingHalf ? state.stagingEnd : 0, wraps: false, uncommittedFrom: state.nextSeq)
            }
        }
        if scrubbed { try file.syncData() }
    }
}
