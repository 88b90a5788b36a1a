/// The writer's working memory, reused across appends.
struct WriterScratch {
    /// Encoded region frames not yet written, contiguous in the file from `runOffset`.
    var run: [UInt8] = []
    var runOffset: UInt64 = 0
    /// Version 2: frames of the open block not yet written to its staging half.
    var staged: [UInt8] = []
    /// Read-ahead over the oldest suffix frames, which an append overwrites in order.
    var tailWindow: FrameWindow?
    var backoff = CompressionBackoff()
    /// When the last record was appended: an open block sealed for being idle is idle since.
    var lastAppend = ContinuousClock.now

    /// Memory a ring keeps between appends: small, since a node holds many rings.
    static let keptCapacity = 16 * 1024
    static let tailChunk = 8 * 1024
}

/// Input that does not compress (random bytes, compressed data) is stored raw; after a block
/// that did not shrink, the next 1, 2, 4 … up to 64 blocks are stored without trying, so a
/// hostile container costs a try every 64 blocks, not one per block.
struct CompressionBackoff {
    private var skip = 0
    private var penalty = 0
    static let longest = 64

    mutating func shouldTry() -> Bool {
        guard skip == 0 else {
            skip -= 1
            return false
        }
        return true
    }

    mutating func record(shrank: Bool) {
        penalty = shrank ? 0 : Swift.min(Swift.max(penalty * 2, 1), CompressionBackoff.longest)
        skip = penalty
    }
}

extension Ring {
    /// The largest payload a record can have here; longer ones are truncated and flagged.
    public var maxPayload: Int {
        Int(superblock.hasBlocks ? superblock.stagingCapacity : superblock.suffixCapacity) - RingFormat.frameHeaderSize
    }

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
            var batch = AppendBatch(ring: self, committed: committed, scratch: scratch)
            defer { scratch = batch.scratch }
            for entry in entries { try batch.place(entry) }
            if let sourcePosition { batch.state.sourcePosition = sourcePosition }
            try batch.commit()
            if !entries.isEmpty { batch.scratch.lastAppend = .now }
            return committed.nextSeq..<batch.state.nextSeq
        }
    }
}

/// One append in progress. Version 1 places each record's frame in the prefix or the suffix
/// ring; version 2 stages it in the open block and places sealed blocks there instead. Room in
/// the suffix is made by giving up its oldest frames; frames are written in as few `pwrite`s
/// as it can, and one checkpoint at the end makes them all exist.
struct AppendBatch {
    let ring: Ring
    let committed: RingState
    var state: RingState
    var scratch: WriterScratch
    /// Suffix bytes given up so far (their records rolled over).
    var reclaimed: UInt64 = 0
    /// Bytes of the open block's frames already in its staging half; the rest are in `scratch.staged`.
    var stagedOnDisk: UInt64

    init(ring: Ring, committed: RingState, scratch: WriterScratch) {
        self.ring = ring
        self.committed = committed
        state = committed
        self.scratch = scratch
        stagedOnDisk = committed.stagingEnd
        // What an append that failed (a full disk) left unwritten is not this one's to write.
        self.scratch.staged.removeAll(keepingCapacity: true)
        self.scratch.run.removeAll(keepingCapacity: true)
        if self.scratch.tailWindow == nil {
            self.scratch.tailWindow = FrameWindow(file: ring.file, superblock: ring.superblock, chunk: WriterScratch.tailChunk)
        }
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
        if superblock.hasBlocks {
            try stage(header, payload: payload)
        } else {
            try placeInRegions(header, payload: payload, lastTimestamp: header.timestamp)
        }
        if state.nextSeq == 0 { state.firstTimestamp = header.timestamp }
        state.lastTimestamp = header.timestamp
        state.nextSeq += 1
        if !superblock.hasBlocks {
            state.blockedSeq = state.nextSeq
        } else if state.openPayload >= UInt64(superblock.blockSize) {
            // A record as long as a block is a block of its own.
            try sealOpenBlock()
        }
    }

    /// Adds a record's frame to the open block, sealing the block first if the record's payload
    /// would take the block's payloads past the block size (so that a block of short lines
    /// holds as much text as one of long lines), or its frame would take the staging half past
    /// its capacity.
    private mutating func stage(_ header: FrameHeader, payload: [UInt8]) throws {
        if state.stagingEnd > 0,
           state.openPayload + UInt64(payload.count) > UInt64(superblock.blockSize)
            || state.stagingEnd + header.frameSize > superblock.stagingCapacity {
            try sealOpenBlock()
        }
        payload.withUnsafeBytes { header.append(payload: $0, to: &scratch.staged, checksum: ring.checksum) }
        state.stagingEnd += header.frameSize
        state.openPayload += UInt64(payload.count)
    }

    /// Writes the staged frames that are not in their half yet.
    private mutating func flushStaged() throws {
        guard !scratch.staged.isEmpty else { return }
        try ring.file.write(scratch.staged, at: superblock.stagingStart + state.stagingHalf * superblock.stagingCapacity + stagedOnDisk)
        stagedOnDisk += UInt64(scratch.staged.count)
        scratch.staged.removeAll(keepingCapacity: true)
    }

    /// Seals the open block: its records become one block, compressed unless that does not pay,
    /// placed in the prefix or the suffix. Records after it go to the other half, so the half
    /// the last checkpoint names stays intact until the checkpoint that says its records are in
    /// this block. (Compressing on a thread of its own while the append goes on was measured:
    /// no faster on two cores, a quarter more CPU; docs/performance.md.)
    mutating func sealOpenBlock() throws {
        guard superblock.hasBlocks, state.stagingEnd > 0 else { return }
        // Frames of earlier appends are read back from their half (the page cache has them);
        // this append's never touch the disk until they are in a block.
        let half = superblock.stagingStart + state.stagingHalf * superblock.stagingCapacity
        let staged = stagedOnDisk == 0 ? scratch.staged : try ring.file.read(count: Int(stagedOnDisk), at: half) + scratch.staged
        scratch.staged.removeAll(keepingCapacity: true)
        let builder = StagedFrames.block(from: staged, seqs: state.blockedSeq..<state.nextSeq,
                                         checksum: ring.checksum, timeBefore: state.lastTimestamp)
        let body = builder.body
        var compressed: [UInt8]?
        if scratch.backoff.shouldTry() {
            compressed = body.withUnsafeBytes { BlockCodec.compress($0) }
            scratch.backoff.record(shrank: compressed != nil)
        }
        let blockHeader = BlockHeader(records: builder.records, decodedSize: UInt32(body.count),
                                      lastTimestamp: builder.lastTimestamp, logBytes: builder.logBytes)
        let payload = blockHeader.encoded() + (compressed ?? body)
        let codec: BlockCodec.Codec = compressed == nil ? .stored : .zstd
        let header = FrameHeader(length: UInt32(payload.count), seq: builder.firstSeq, timestamp: builder.firstTimestamp,
                                 type: .block, stream: codec.rawValue, flags: 0)
        try placeInRegions(header, payload: payload, lastTimestamp: builder.lastTimestamp)
        state.blockedSeq = state.nextSeq
        state.stagingEnd = 0
        state.openPayload = 0
        state.stagingHalf = 1 - committed.stagingHalf
        stagedOnDisk = 0
    }

    /// Writes what is pending, then the checkpoint that makes it exist. After a seal, the
    /// staging half the last checkpoint named is released (both, when the ring finishes):
    /// `Ring.sync()` gives their pages back once this checkpoint is on disk.
    mutating func commit(releasingStaging all: Bool = false) throws {
        try writeAll()
        let released: [UInt64] = all ? [0, 1] : state.stagingHalf != committed.stagingHalf ? [committed.stagingHalf] : []
        try ring.commit(state, releasing: superblock.hasBlocks ? released : [])
    }

    /// Writes everything this append made, short of the checkpoint: the staged frames of the
    /// open block, and the frames placed in the regions. The buffers then shrink back: a node
    /// has a thousand rings.
    mutating func writeAll() throws {
        try flushStaged()
        try writeRun()
        scratch.staged.removeAll(keepingCapacity: scratch.staged.capacity <= WriterScratch.keptCapacity)
        scratch.tailWindow?.shrink(to: WriterScratch.tailChunk)
    }

    /// Places a frame (a record in version 1, a block in version 2) in the prefix while it
    /// fits there, else in the suffix, whose size it then knows.
    private mutating func placeInRegions(_ header: FrameHeader, payload: [UInt8], lastTimestamp: Int64) throws {
        let size = header.frameSize
        let offset: UInt64
        if !state.prefixSealed, state.prefixEnd + size <= superblock.prefixCapacity {
            offset = superblock.prefixStart + state.prefixEnd
            state.prefixEnd += size
            state.prefixLastTimestamp = lastTimestamp
        } else {
            if !state.prefixSealed {
                state.prefixSealed = true
                state.firstSuffixSeq = header.seq
                state.tailSeq = header.seq
            }
            // Keep unwritten frames well short of a lap, so the tail being reclaimed is on disk.
            if scratch.run.count + Int(size) > Int(superblock.suffixCapacity / 2) { try writeRun() }
            try makeRoom(size, before: header.seq)
            offset = superblock.suffixStart + state.head
            state.head += size
            state.used += size
            if state.head == superblock.suffixCapacity { state.head = 0 }
        }
        try encode(header, payload: payload, at: offset)
    }

    private mutating func encode(_ header: FrameHeader, payload: [UInt8], at offset: UInt64) throws {
        if !scratch.run.isEmpty, scratch.runOffset + UInt64(scratch.run.count) != offset { try writeRun() }
        if scratch.run.isEmpty { scratch.runOffset = offset }
        payload.withUnsafeBytes { header.append(payload: $0, to: &scratch.run, checksum: ring.checksum) }
    }

    /// Frees `size` contiguous bytes at the suffix head, wrapping and dropping the oldest frames.
    private mutating func makeRoom(_ size: UInt64, before seq: UInt64) throws {
        let capacity = superblock.suffixCapacity
        while true {
            if state.used > 0, state.tail >= state.head {
                if state.tail - state.head >= size { return }
                try dropTail()
            } else {
                if capacity - state.head >= size { return }
                if capacity - state.head >= UInt64(RingFormat.frameHeaderSize) {
                    let wrap = FrameHeader(length: 0, seq: seq, timestamp: state.lastTimestamp, type: .wrap, stream: 0, flags: 0)
                    try encode(wrap, payload: [], at: superblock.suffixStart + state.head)
                }
                state.used += capacity - state.head
                state.head = 0
            }
        }
    }

    /// Gives up the oldest suffix frame: its records (one, or a block's) roll over.
    private mutating func dropTail() throws {
        let capacity = superblock.suffixCapacity
        let before = state.used
        defer { reclaimed += before - Swift.min(before, state.used) }
        if capacity - state.tail < UInt64(RingFormat.frameHeaderSize) { return wrapTail() }
        let frame = try scratch.tailWindow!.frame(at: superblock.suffixStart + state.tail, limit: superblock.suffixStart + capacity)
        let records = frame.flatMap { scratch.tailWindow!.records(in: $0) }
        guard let frame, let records, frame.header.type == .wrap || frame.header.seq == state.tailSeq else {
            // Damaged on disk under us: find the next intact frame among what is written.
            try writeRun()
            scratch.tailWindow!.invalidate()
            return try Recovery.repairTail(of: &state, superblock: superblock, window: &scratch.tailWindow!)
        }
        if frame.header.type == .wrap { return wrapTail() }
        state.tail += frame.header.frameSize
        state.used -= frame.header.frameSize
        state.tailSeq += records.count
        state.counters.rolledRecords += records.count
        state.counters.rolledBytes += records.logBytes
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
        if committed.prefixSealed, reclaimed > 0 {
            let (state, committed, reclaimed) = (state, committed, reclaimed)
            ring.shared.withLock { shared in
                shared.state.tail = state.tail
                shared.state.tailSeq = Swift.min(state.tailSeq, committed.blockedSeq)
                shared.state.used = committed.used - Swift.min(reclaimed, committed.used)
                shared.state.counters.rolledRecords = state.counters.rolledRecords
                shared.state.counters.rolledBytes = state.counters.rolledBytes
            }
        }
        try ring.file.write(scratch.run, at: scratch.runOffset)
        scratch.tailWindow!.invalidate(overlapping: scratch.runOffset..<(scratch.runOffset + UInt64(scratch.run.count)))
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

    init?(decoding payload: UnsafeRawBufferPointer) {
        guard payload.count >= 16 else { return nil }
        records = payload.loadLE(UInt64.self, at: 0)
        bytes = payload.loadLE(UInt64.self, at: 8)
        reason = String(decoding: payload[16...], as: UTF8.self)
    }
}
