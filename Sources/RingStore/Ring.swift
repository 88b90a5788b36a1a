import Foundation
import Synchronization

/// One ring file: the first `prefixCapacity` bytes of records kept for good, then the newest
/// records rolling through `suffixCapacity` bytes. One writer appends; any number of readers
/// and followers read concurrently, in this process, with `pread` on the same descriptor.
public final class Ring: Sendable {
    public let id: RingID
    public let path: String
    let file: RawFile
    let superblock: Superblock
    let checksum: Checksum
    let writable: Bool
    /// Where the writer stores checkpoints; nil when opened read-only.
    let checkpointPage: CheckpointPage?
    /// A folded ring's place in its job's history file; nil for a ring file.
    let folded: FoldedPlace?

    struct Shared {
        var state: RingState
        var metadata: RingMetadata
        var metadataGeneration: UInt64
        var checkpointGeneration: UInt64
        /// Bumped by every change a follower may wait for.
        var version: UInt64 = 0
        var deleted = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Something was written that `sync()` has not forced to disk yet.
        var unsynced: Bool
        /// The newest checkpoint generation known to be on disk.
        var syncedGeneration: UInt64 = 0
        /// Staging halves that checkpoints no longer name, for `sync()` to give back.
        var released: [StagingRelease] = []

        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            guard !waiters.isEmpty else { return [] }
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    /// A staging half let go by the checkpoint of `generation`, at `time`.
    struct StagingRelease: Equatable {
        var half: UInt64
        var generation: UInt64
        var time: ContinuousClock.Instant
    }

    let shared: Mutex<Shared>
    /// Held for a whole append, so appends never interleave; readers never take it.
    let writerLock = Mutex(WriterScratch())

    static let metadataSlot = DoubleSlot(offsets: RingFormat.metadataSlots, size: RingFormat.metadataSlotSize)
    static let checkpointSlot = DoubleSlot(offsets: RingFormat.checkpointSlots, size: RingFormat.checkpointSlotSize)

    init(file: RawFile, superblock: Superblock, state: RingState, metadata: RingMetadata,
         metadataGeneration: UInt64, checkpointGeneration: UInt64, writable: Bool, folded: FoldedPlace? = nil) throws {
        self.file = file
        self.folded = folded
        path = folded.map { "\(file.path)#\($0.offset)" } ?? file.path
        id = superblock.id
        self.superblock = superblock
        checksum = Checksum(seed: superblock.checksumSeed)
        self.writable = writable
        checkpointPage = try writable ? CheckpointPage(file: file) : nil
        shared = Mutex(Shared(state: state, metadata: metadata, metadataGeneration: metadataGeneration,
                              checkpointGeneration: checkpointGeneration, unsynced: writable))
    }

    /// Creates a new ring file at `path` (which must not exist) and opens it for writing. A
    /// version 2 ring seals its records into blocks of `blockSize` (by default 64 KiB, less when
    /// the suffix is too small to hold 16 of them).
    public static func create(path: String, id: RingID = .random(), prefixCapacity: UInt64, suffixCapacity: UInt64,
                              metadata: RingMetadata, createdAt: Int64, version: RingFileVersion = .newest,
                              blockSize: UInt32? = nil) throws -> Ring {
        guard prefixCapacity % RingFormat.frameAlignment == 0, suffixCapacity % RingFormat.frameAlignment == 0 else {
            throw RingStoreError.invalidCapacity("capacities must be multiples of \(RingFormat.frameAlignment) bytes")
        }
        guard suffixCapacity >= RingFormat.minimumSuffix else {
            throw RingStoreError.invalidCapacity("the suffix must hold at least \(RingFormat.minimumSuffix) bytes")
        }
        guard prefixCapacity < 1 << 48, suffixCapacity < 1 << 48 else {
            throw RingStoreError.invalidCapacity("capacities must be below 256 TiB")
        }
        var superblock = Superblock(id: id, prefixCapacity: prefixCapacity, suffixCapacity: suffixCapacity,
                                    checksumSeed: UInt32.random(in: 0...UInt32.max), createdAt: createdAt, version: version)
        if version >= .two {
            superblock.blockSize = blockSize ?? RingFormat.blockSize(forSuffix: suffixCapacity)
            guard superblock.blockSizeFits() else {
                throw RingStoreError.invalidCapacity(
                    "blocks must be multiples of 8 bytes from \(RingFormat.minimumBlockSize) bytes, and the suffix must hold "
                        + "16 of them and a few hundred bytes (\(suffixCapacity) bytes do not, for blocks of \(superblock.blockSize))")
            }
        }
        let metadataBytes = try encode(metadata)
        let file = try RawFile(path: path, mode: .create)
        do {
            try file.lockExclusive()
            let checksum = Checksum(seed: superblock.checksumSeed)
            try file.write(superblock.encoded(), at: 0)
            try metadataSlot.write(metadataBytes, generation: 1, to: file, checksum: checksum)
            try checkpointSlot.write(RingState().encoded(version), generation: 1, to: file, checksum: checksum)
        } catch {
            unlink(path)
            throw error
        }
        return try Ring(file: file, superblock: superblock, state: RingState(), metadata: metadata,
                    metadataGeneration: 1, checkpointGeneration: 1, writable: true)
    }

    /// Opens an existing ring file. Records after the last checkpoint were never acknowledged and
    /// are ignored (the source position in the checkpoint says where to resume); damage inside
    /// the file is found by checksums when read, and skipped with a gap.
    public static func open(path: String, writable: Bool) throws -> Ring {
        let file = try RawFile(path: path, mode: writable ? .readWrite : .readOnly)
        if writable { try file.lockExclusive() }
        let superblock = try Superblock.decode(file.read(count: RingFormat.superblockSize, at: 0), path: path)
        let checksum = Checksum(seed: superblock.checksumSeed)
        guard let (metadataGeneration, metadataBytes) = try metadataSlot.read(from: file, checksum: checksum),
              let metadata = try? JSONDecoder().decode(RingMetadata.self, from: Data(metadataBytes))
        else { throw RingStoreError.corruptHeader(path: path) }
        var window = FrameWindow(file: file, superblock: superblock)
        var checkpointGeneration: UInt64 = 1
        var state: RingState
        if let (generation, bytes) = try checkpointSlot.read(from: file, checksum: checksum),
           let decoded = RingState.decode(bytes, version: superblock.version),
           decoded.isConsistent(with: superblock) {
            checkpointGeneration = generation
            state = decoded
            try Recovery.repairTail(of: &state, superblock: superblock, window: &window)
        } else {
            state = try Recovery.scan(superblock: superblock, window: &window)
        }
        if writable { try Recovery.scrubUncommitted(state, superblock: superblock, file: file, window: &window) }
        let ring = try Ring(file: file, superblock: superblock, state: state, metadata: metadata,
                        metadataGeneration: metadataGeneration, checkpointGeneration: checkpointGeneration,
                        writable: writable)
        return ring
    }

    static func encode(_ metadata: RingMetadata) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try [UInt8](encoder.encode(metadata))
        let limit = metadataSlot.capacity
        guard bytes.count <= limit else { throw RingStoreError.metadataTooLarge(bytes: bytes.count, limit: limit) }
        return bytes
    }

    public var metadata: RingMetadata { shared.withLock { $0.metadata } }
    public var isFinished: Bool { shared.withLock { $0.state.finished } }
    /// Kept in its job's history file rather than a ring file of its own.
    public var isFolded: Bool { folded != nil }
    /// The source position stored with the last append: where the writer resumes after a restart.
    public var sourcePosition: [UInt8] { shared.withLock { $0.state.sourcePosition } }
    var state: RingState { shared.withLock { $0.state } }

    /// The format version this file was created with; a ring is appended to in its own version.
    public var fileVersion: RingFileVersion { superblock.version }

    public func info() throws -> RingInfo {
        let (state, metadata) = shared.withLock { ($0.state, $0.metadata) }
        return RingInfo(
            id: id, path: path, metadata: metadata, finished: state.finished, counters: state.counters,
            prefixCapacity: superblock.prefixCapacity, suffixCapacity: superblock.suffixCapacity,
            prefixRecords: state.visiblePrefix, suffixRecords: state.visibleRecent,
            version: superblock.version, blockSize: superblock.blockSize,
            firstTimestamp: state.isEmpty ? nil : state.firstTimestamp,
            lastTimestamp: state.isEmpty ? nil : state.lastTimestamp,
            diskBytes: try folded?.size ?? file.allocatedBytes(), createdAt: superblock.createdAt, folded: folded != nil
        )
    }

    /// Replaces the metadata, atomically (the other slot keeps the previous copy until done).
    public func updateMetadata(_ change: (inout RingMetadata) -> Void) throws {
        guard writable else { throw RingStoreError.readOnly(path: path) }
        try writerLock.withLock { _ in
            var (metadata, generation, deleted) = shared.withLock { ($0.metadata, $0.metadataGeneration, $0.deleted) }
            guard !deleted else { throw RingStoreError.unknownRing(id.description) }
            change(&metadata)
            generation += 1
            try Ring.metadataSlot.write(Ring.encode(metadata), generation: generation, to: file, checksum: checksum)
            shared.withLock {
                $0.metadata = metadata
                $0.metadataGeneration = generation
                $0.version += 1
                $0.unsynced = true
            }
        }
    }

    /// Marks the ring finished: no more appends, and followers end once they have read it all.
    /// The open block is sealed, and the staging halves are given back to the file system.
    public func finish() throws {
        guard writable else { throw RingStoreError.readOnly(path: path) }
        try writerLock.withLock { scratch in
            let (committed, deleted) = shared.withLock { ($0.state, $0.deleted) }
            guard !deleted else { throw RingStoreError.unknownRing(id.description) }
            guard !committed.finished else { return }
            var batch = AppendBatch(ring: self, committed: committed, scratch: scratch)
            defer { scratch = batch.scratch }
            try batch.sealOpenBlock()
            batch.state.finished = true
            try batch.commit(releasingStaging: true)
        }
    }

    /// Seals the open block if it holds at least `minimumBytes` of staged frames and took no
    /// record for `idle`: a quiet container's last lines are compressed too, while one that
    /// writes a line a minute fills its block over hours, not a block per line. Returns whether
    /// it sealed.
    @discardableResult
    public func sealOpenBlock(ifIdleFor idle: Duration, minimumBytes: Int) throws -> Bool {
        guard writable, superblock.hasBlocks else { return false }
        return try writerLock.withLock { scratch in
            let (committed, deleted) = shared.withLock { ($0.state, $0.deleted) }
            guard !deleted, !committed.finished, committed.stagingEnd >= UInt64(minimumBytes),
                  scratch.lastAppend.duration(to: .now) >= idle
            else { return false }
            var batch = AppendBatch(ring: self, committed: committed, scratch: scratch)
            defer { scratch = batch.scratch }
            try batch.sealOpenBlock()
            try batch.commit()
            return true
        }
    }

    /// Forces what was written since the last call to disk, if anything; returns whether it
    /// had to. Nothing the writer does syncs by itself: an `fdatasync` can take tens of
    /// milliseconds, and the thread that appends to a node's rings must not wait for one. A
    /// crash of the process loses nothing unsynced (the page cache has it); power loss loses
    /// what was written since the last sync. The agent syncs every few seconds, off that thread.
    @discardableResult
    public func sync() throws -> Bool {
        let (written, generation) = shared.withLock { shared in
            defer { shared.unsynced = false }
            return (shared.unsynced, shared.checkpointGeneration)
        }
        if written {
            do {
                try file.syncData()
            } catch {
                shared.withLock { $0.unsynced = true }
                throw error
            }
            shared.withLock { $0.syncedGeneration = Swift.max($0.syncedGeneration, generation) }
        }
        giveBackReleasedStaging()
        return written
    }

    /// Gives the pages of released staging halves back to the file system, once the checkpoint
    /// that released them is on disk (before, power loss could keep the punch and lose the block
    /// that holds their records) and the ring has not sealed for a minute: a busy ring reuses a
    /// half within seconds, and giving it back would make each seal allocate again (and fail on
    /// a full disk). A finished ring gives back both at once. Best effort: a file system that
    /// cannot punch keeps the pages.
    private func giveBackReleasedStaging() {
        guard writable, superblock.stagingCapacity > 0, !shared.withLock({ $0.released.isEmpty }) else { return }
        writerLock.withLock { _ in
            let (released, state, synced, deleted) = shared.withLock { ($0.released, $0.state, $0.syncedGeneration, $0.deleted) }
            guard !deleted else { return }
            let due = released.filter { release in
                release.generation <= synced && (state.finished || release.time.duration(to: .now) >= .seconds(60))
                    && (state.stagingEnd == 0 || state.stagingHalf != release.half)
            }
            for release in due {
                try? file.punchHole(at: superblock.stagingStart + release.half * superblock.stagingCapacity, count: superblock.stagingCapacity)
            }
            shared.withLock { shared in shared.released.removeAll(where: due.contains) }
        }
    }

    /// Removes the bytes for good: the file is emptied before it is unlinked, so that a reader
    /// still holding it open cannot keep a purged secret alive; a folded ring's entry is erased
    /// (its history's `sync()` puts that on disk). Returns whether a folded ring's history is now empty.
    @discardableResult
    func destroy() throws -> Bool {
        var historyEmpty = false
        let waiters = try writerLock.withLock { _ in
            if let folded {
                historyEmpty = try folded.history.erase(recordAt: folded.record)
            } else {
                try file.truncate(to: 0)
                unlink(path)
            }
            DecodedBlockCache.shared.forget(ring: id)
            return shared.withLock { shared -> [CheckedContinuation<Void, Never>] in
                shared.deleted = true
                shared.version += 1
                return shared.takeWaiters()
            }
        }
        waiters.forEach { $0.resume() }
        return historyEmpty
    }

    /// A folded ring is read from its history entry as an object of its own each time it is
    /// asked for: whether its run was erased since, its record says.
    public var isDeleted: Bool { shared.withLock { $0.deleted } || (folded.map { $0.history.isErased(recordAt: $0.record) } ?? false) }

    /// Writes the checkpoint for `state` and makes it what readers see; wakes followers. The
    /// staging halves it no longer names (`releasing`) are given back by a later `sync()`.
    func commit(_ state: RingState, releasing halves: [UInt64] = []) throws {
        let generation = shared.withLock { $0.checkpointGeneration } + 1
        let (offset, bytes) = Ring.checkpointSlot.encoded(state.encoded(superblock.version), generation: generation, checksum: checksum)
        checkpointPage!.store(bytes, at: offset)
        let waiters = shared.withLock { shared -> [CheckedContinuation<Void, Never>] in
            shared.state = state
            shared.checkpointGeneration = generation
            shared.version += 1
            shared.unsynced = true
            for half in halves {
                shared.released.removeAll { $0.half == half }
                shared.released.append(StagingRelease(half: half, generation: generation, time: .now))
            }
            return shared.takeWaiters()
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once anything changed after `version`, the ring is finished or deleted, or the
    /// task is cancelled. The writer wakes it; nothing polls. Take `version` before reading, so
    /// that a change between the read and the wait is never missed.
    public func waitForChange(after version: UInt64) async {
        let token = shared.withLock { shared -> UInt64 in
            shared.nextWaiter += 1
            return shared.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waitNow = shared.withLock { shared -> Bool in
                    if shared.version != version || shared.state.finished || shared.deleted || Task.isCancelled {
                        return false
                    }
                    shared.waiters[token] = continuation
                    return true
                }
                if !waitNow { continuation.resume() }
            }
        } onCancel: {
            shared.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
        }
    }

    /// Grows with every change readers may wait for (appends, metadata, finish, deletion).
    public var version: UInt64 { shared.withLock { $0.version } }
}
