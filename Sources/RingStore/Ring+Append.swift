/// The writer's working memory, reused across appends.
struct WriterScratch {
    /// Encoded frames not yet written, contiguous in the file from `runOffset`.
    var run: [UInt8] = []
    var runOffset: UInt64 = 0
    /// Read-ahead over the oldest suffix records, which an append overwrites in order.
    var tailWindow: FrameWindow?

    /// Memory a ring keeps between appends: small, since a node holds many rings.
    static let keptCapacity = 16 * 1024
    static let tailChunk = 8 * 1024
}

extension Ring {
    /// The largest payload a record can have here; longer ones are truncated and flagged.
    public var maxPayload: Int { Int(superblock.suffixCapacity) - RingFormat.frameHeaderSize }

    /// Appends `entries` as one batch and records `sourcePosition` (where the source was read up
    /// to) with it. When this returns, the records and the position are in the file: a crash
    /// of the process loses neither (power loss needs `sync()`). Returns the sequence numbers
    /// the entries received.
    @discardableResult
    public func append(_ entries: [AppendEntry], sourcePosition: [UInt8]? = nil) throws -> Range<UInt64> {
        guard writable else { throw RingStoreError.readOnly(path: path) }
        if let sourcePosition, sourcePosition.count > RingFormat.maxSourcePosition {
            throw RingStoreError.sourcePositionTooLarge(bytes: sourcePosition.count, limit: RingFormat.maxSourcePosition)
        }
        return try writerLock.withLock { scratch in
            let (committed, deleted) = shared.withLock { ($0.state, $0.deleted) }
            guard !committed.finished, !deleted else { throw RingStoreError.finished(path: path) }
            if scratch.tailWindow == nil {
                scratch.tailWindow = FrameWindow(file: file, checksum: checksum, chunk: WriterScratch.tailChunk)
            }
            var batch = AppendBatch(ring: self, committed: committed, scratch: scratch)
            defer { scratch = batch.scratch }
            for entry in entries { try batch.place(entry) }
            try batch.writeRun()
            if let sourcePosition { batch.state.sourcePosition = sourcePosition }
            try commit(batch.state)
            return committed.nextSeq..<batch.state.nextSeq
        }
    }
}

/// One append in progress: places frames in the prefix or the suffix ring, making room in the
/// suffix by giving up its oldest frames, and writes them in as few `pwrite`s as it can.
struct AppendBatch {
    let ring: Ring
    let committed: RingState
    var state: RingState
    var scratch: WriterScratch
    /// Suffix bytes given up so far (their records rolled over).
    var reclaimed: UInt64 = 0

    init(ring: Ring, committed: RingState, scratch: WriterScratch) {
        self.ring = ring
        self.committed = committed
        state = committed
        self.scratch = scratch
    }

    var superblock: Superblock { ring.superblock }

    mutating func place(_ entry: AppendEntry) throws {
        var header: FrameHeader
        var payload: [UInt8]
        switch entry {
        case let .line(timestamp, stream, flags, bytes):
            header = FrameHeader(length: 0, seq: state.nextSeq, timestamp: timestamp, type: .log,
                                 stream: stream.rawValue, flags: flags.rawValue)
            payload = bytes
            let limit = ring.maxPayload
            if payload.count > limit {
                payload = Array(payload[..<limit])
                header.flags |= RecordFlags.truncated.rawValue
                state.counters.truncatedRecords += 1
            }
            state.counters.recordsWritten += 1
            state.counters.bytesWritten += UInt64(payload.count)
        case let .drop(timestamp, records, bytes, reason):
            header = FrameHeader(length: 0, seq: state.nextSeq, timestamp: timestamp, type: .drop, stream: 0, flags: 0)
            payload = DropNote(records: records, bytes: bytes, reason: reason).encoded()
            state.counters.droppedRecords += records
            state.counters.droppedBytes += bytes
        }
        if state.nextSeq > 0, header.timestamp < state.lastTimestamp {
            header.timestamp = state.lastTimestamp
            header.flags |= RecordFlags.timeAdjusted.rawValue
        }
        header.length = UInt32(payload.count)
        let size = header.frameSize

        let offset: UInt64
        if !state.sealed, state.prefixEnd + size <= superblock.prefixCapacity {
            offset = superblock.prefixStart + state.prefixEnd
            state.prefixEnd += size
            state.prefixLastTimestamp = header.timestamp
        } else {
            if !state.sealed {
                state.sealed = true
                state.firstSuffixSeq = state.nextSeq
                state.tailSeq = state.nextSeq
            }
            // Keep unwritten frames well short of a lap, so the tail being reclaimed is on disk.
            if scratch.run.count + Int(size) > Int(superblock.suffixCapacity / 2) { try writeRun() }
            try makeRoom(size)
            offset = superblock.suffixStart + state.head
            state.head += size
            state.used += size
            if state.head == superblock.suffixCapacity { state.head = 0 }
        }
        try encode(header, payload: payload, at: offset)
        if state.nextSeq == 0 { state.firstTimestamp = header.timestamp }
        state.lastTimestamp = header.timestamp
        state.nextSeq += 1
    }

    private mutating func encode(_ header: FrameHeader, payload: [UInt8], at offset: UInt64) throws {
        if !scratch.run.isEmpty, scratch.runOffset + UInt64(scratch.run.count) != offset { try writeRun() }
        if scratch.run.isEmpty { scratch.runOffset = offset }
        payload.withUnsafeBytes { header.append(payload: $0, to: &scratch.run, checksum: ring.checksum) }
    }

    /// Frees `size` contiguous bytes at the suffix head, wrapping and dropping the oldest frames.
    private mutating func makeRoom(_ size: UInt64) throws {
        let capacity = superblock.suffixCapacity
        while true {
            if state.used > 0, state.tail >= state.head {
                if state.tail - state.head >= size { return }
                try dropTail()
            } else {
                if capacity - state.head >= size { return }
                if capacity - state.head >= UInt64(RingFormat.frameHeaderSize) {
                    let wrap = FrameHeader(length: 0, seq: state.nextSeq, timestamp: state.lastTimestamp, type: .wrap, stream: 0, flags: 0)
                    try encode(wrap, payload: [], at: superblock.suffixStart + state.head)
                }
                state.used += capacity - state.head
                state.head = 0
            }
        }
    }

    /// Gives up the oldest suffix frame: its record rolls over.
    private mutating func dropTail() throws {
        let capacity = superblock.suffixCapacity
        let before = state.used
        defer { reclaimed += before - Swift.min(before, state.used) }
        if capacity - state.tail < UInt64(RingFormat.frameHeaderSize) { return wrapTail() }
        let frame = try scratch.tailWindow!.frame(at: superblock.suffixStart + state.tail, limit: superblock.suffixStart + capacity)
        guard let frame, frame.header.type == .wrap || frame.header.seq == state.tailSeq else {
            // Damaged on disk under us: find the next intact record among what is written.
            try writeRun()
            scratch.tailWindow!.invalidate()
            return try Recovery.repairTail(of: &state, superblock: superblock, window: &scratch.tailWindow!)
        }
        if frame.header.type == .wrap { return wrapTail() }
        state.tail += frame.header.frameSize
        state.used -= frame.header.frameSize
        state.tailSeq += 1
        state.counters.rolledRecords += 1
        if frame.header.type == .log { state.counters.rolledBytes += UInt64(frame.header.length) }
        if state.tail == capacity { wrapTail() }
        if state.used == 0 { state.tail = state.head }
    }

    private mutating func wrapTail() {
        state.used -= superblock.suffixCapacity - state.tail
        state.tail = 0
        // What the window holds near the start was written over during the last lap.
        scratch.tailWindow!.invalidate()
    }

    /// Writes the pending frames. Readers learn first which old records are about to be
    /// overwritten (the new tail), so one that reads them anyway sees a gap, not a torn record.
    mutating func writeRun() throws {
        guard !scratch.run.isEmpty else { return }
        if committed.sealed, reclaimed > 0 {
            let (state, committed, reclaimed) = (state, committed, reclaimed)
            ring.shared.withLock { shared in
                shared.state.tail = state.tail
                shared.state.tailSeq = Swift.min(state.tailSeq, committed.nextSeq)
                shared.state.used = committed.used - Swift.min(reclaimed, committed.used)
                shared.state.counters.rolledRecords = state.counters.rolledRecords
                shared.state.counters.rolledBytes = state.counters.rolledBytes
            }
        }
        try ring.file.write(scratch.run, at: scratch.runOffset)
        scratch.tailWindow!.invalidate(overlapping: scratch.runOffset..<(scratch.runOffset + UInt64(scratch.run.count)))
        // An idle ring should not hold a large batch's buffer: a node has a thousand rings.
        scratch.run.removeAll(keepingCapacity: scratch.run.capacity <= WriterScratch.keptCapacity)
    }
}

/// The payload of a drop record.
struct DropNote: Equatable {
    var records: UInt64
    var bytes: UInt64
    var reason: String

    static let maxReason = 200

    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.appendLE(records)
        out.appendLE(bytes)
        out.append(contentsOf: reason.utf8.prefix(DropNote.maxReason))
        return out
    }

    init(records: UInt64, bytes: UInt64, reason: String) {
        self.records = records
        self.bytes = bytes
        self.reason = reason
    }

    init?(decoding payload: [UInt8]) {
        guard payload.count >= 16 else { return nil }
        records = payload.loadLE(UInt64.self, at: 0)
        bytes = payload.loadLE(UInt64.self, at: 8)
        reason = String(decoding: payload[16...], as: UTF8.self)
    }
}
