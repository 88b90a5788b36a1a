import Foundation
import Synchronization

/// Which rings to list; nil fields match anything.
public struct RingFilter: Sendable, Equatable {
    public var tool: String?
    public var kind: RingKind?
    public var name: String?
    public var run: String?
    public var finished: Bool?
    /// In a history file (true), or in a ring file of its own (false).
    public var folded: Bool?

    public init(tool: String? = nil, kind: RingKind? = nil, name: String? = nil, run: String? = nil, finished: Bool? = nil,
                folded: Bool? = nil) {
        self.tool = tool
        self.kind = kind
        self.name = name
        self.run = run
        self.finished = finished
        self.folded = folded
    }

    /// Whether the folded run its record describes is one this filter names.
    public func matches(folded run: FoldedRun) -> Bool {
        (tool == nil || tool == run.job.tool) && (kind == nil || kind == run.job.kind) && (name == nil || name == run.job.name)
            && (self.run == nil || self.run == run.run) && finished != false && folded != false
    }

    public func matches(_ ring: Ring) -> Bool {
        let metadata = ring.metadata
        return (tool == nil || tool == metadata.tool) && (kind == nil || kind == metadata.kind)
            && (name == nil || name == metadata.name) && (run == nil || run == metadata.run)
            && (finished == nil || finished == ring.isFinished) && (folded == nil || folded == ring.isFolded)
    }
}

/// A data directory of ring files (`<uuid>.ring`), and of the history files their finished runs
/// fold into (`history/<uuid>.hist`, each with its run index), opened for writing by this process alone.
public final class RingDirectory: Sendable {
    public let path: String
    /// Ring files: live rings, and finished ones that did not fold.
    let rings: Mutex<[RingID: Ring]>
    /// The histories, and where each folded run's record is: a folded run is read as a ring
    /// when it is asked for, never held as one (a node keeps millions).
    let histories: Mutex<Histories>
    /// Finished rings that looked foldable but whose regions did not walk cleanly: they keep
    /// their ring files, and are not tried again.
    let unfoldable = Mutex<Set<RingID>>([])
    /// Held while one job's runs fold and while deleting, so a purge never races a fold that
    /// copies the ring it removes.
    let maintenance = Mutex(())
    private let entries: RawFile
    /// A ring was created or deleted since the last `sync()`.
    let entriesChanged = Atomic(false)
    /// Files that could not be opened at start, moved aside as `*.ring~`, with the reason.
    public let quarantined: [String: String]
    /// The format of rings created here; rings opened keep their own (docs/ring-format.md).
    public let fileVersion: RingFileVersion

    struct Histories {
        var table = FoldedRunTable()
        var byNumber: [UInt32: HistoryFile] = [:]
        /// Where each job's runs fold to now: never a history in which damage was found.
        var ofJob: [JobKey: HistoryFile] = [:]
        var nextNumber: UInt32 = 0

        mutating func add(_ history: HistoryFile) {
            byNumber[history.number] = history
            if !history.isDamaged { ofJob[history.job] = history }
        }

        mutating func drop(_ history: HistoryFile) {
            byNumber[history.number] = nil
            if ofJob[history.job] === history { ofJob[history.job] = nil }
        }
    }

    static let suffix = ".ring"
    var historyPath: String { Self.historyPath(in: path) }
    static func historyPath(in path: String) -> String { path + "/history" }

    /// Opens every history and ring in `path` (created if missing). A file that cannot be opened
    /// is moved aside (like journald's `*.journal~`) and reported, never fatal; a history with
    /// damage is read as far as it can be, and its job's next runs fold into a new one. A ring
    /// file whose run is in a history already was folded just before a crash: the history's
    /// copy is kept.
    public init(path: String, fileVersion: RingFileVersion = .newest) throws {
        self.path = path
        self.fileVersion = fileVersion
        let historyPath = Self.historyPath(in: path)
        try FileManager.default.createDirectory(atPath: historyPath, withIntermediateDirectories: true)
        entries = try RawFile(path: path, mode: .directory)
        var opened: [RingID: Ring] = [:]
        var quarantined: [String: String] = [:]
        // A file that cannot be opened is moved aside; one that another writer holds stops the start.
        func quarantine(_ file: String, _ error: RingStoreError) throws {
            if case .lockedByAnotherWriter = error { throw error }
            quarantined[file] = error.description
            rename(file, file + "~")
        }
        var histories = Histories()
        var problems: [String] = []
        var walked: [RingMetadata] = []
        let historyFiles = try FileManager.default.contentsOfDirectory(atPath: historyPath).sorted()
        // At most a run per smallest record: the table is sized once, not doubled as it loads.
        // Allocated bytes, not sizes: an index's front is given back, its size only grows.
        let indexBytes = historyFiles.filter { $0.hasSuffix(RunIndexHeader.fileSuffix) }.reduce(0) { total, name in
            var info = stat()
            return total + (stat(historyPath + "/" + name, &info) == 0 ? Int(info.st_blocks) * 512 : 0)
        }
        histories.table.reserveCapacity(indexBytes / RunRecord.minSize)
        for name in historyFiles where name.hasSuffix(HistoryFile.fileSuffix) {
            let file = historyPath + "/" + name
            let number = histories.nextNumber
            histories.nextNumber += 1
            do {
                let (history, damage) = try HistoryFile.open(path: file, number: number, walked: { walked.append($0) }) { record in
                    histories.table.load(record.run.id, .init(history: number, record: record.at))
                }
                problems += damage
                guard history.tally.runs > 0 else {
                    // Nothing to read: gone if it is only empty, kept aside if it is damaged.
                    if damage.isEmpty { history.remove() } else { rename(file, file + "~") }
                    continue
                }
                histories.add(history)
            } catch let error as RingStoreError {
                try quarantine(file, error)
            }
        }
        histories.table.finishLoading()
        // An index whose history is gone: a release before the index removed the history.
        for name in historyFiles where name.hasSuffix(RunIndexHeader.fileSuffix)
        && !historyFiles.contains(String(name.dropLast(RunIndexHeader.fileSuffix.count)) + HistoryFile.fileSuffix) {
            unlink(historyPath + "/" + name)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where name.hasSuffix(RingDirectory.suffix) {
            let file = path + "/" + name
            if let id = RingID(name.dropLast(RingDirectory.suffix.count)), Self.record(of: id, in: histories) != nil {
                unlink(file)
                entriesChanged.store(true, ordering: .releasing)
                continue
            }
            do {
                let ring = try Ring.open(path: file, writable: true)
                opened[ring.id] = ring
            } catch let error as RingStoreError {
                try quarantine(file, error)
            }
        }
        rings = Mutex(opened)
        self.histories = Mutex(histories)
        self.quarantined = quarantined
        self.problems = problems
        indexedAtOpen = walked
    }

    /// Damage found in history files at start, as text for the operator's log.
    public let problems: [String]
    /// The runs whose records were written at start, from their entries (a history of a release
    /// before the run index, or an index cut short): what a caller learns of a folded run when
    /// it folds, it learns of these now.
    public let indexedAtOpen: [RingMetadata]

    public func create(metadata: RingMetadata, prefixCapacity: UInt64, suffixCapacity: UInt64, now: Int64) throws -> Ring {
        let id = RingID.random()
        let ring = try Ring.create(path: "\(path)/\(id)\(RingDirectory.suffix)", id: id, prefixCapacity: prefixCapacity,
                                   suffixCapacity: suffixCapacity, metadata: metadata, createdAt: now, version: fileVersion)
        rings.withLock { $0[id] = ring }
        entriesChanged.store(true, ordering: .releasing)
        return ring
    }

    /// The ring with `id`: a ring file, or a folded run read from its history's entry.
    public func ring(_ id: RingID) -> Ring? {
        if let ring = rings.withLock({ $0[id] }) { return ring }
        guard let (history, record) = histories.withLock({ Self.record(of: id, in: $0) }) else { return nil }
        return try? history.ring(record)
    }

    /// What the record of the folded run with `id` says; nil when no folded run has that id.
    public func foldedRun(_ id: RingID) -> FoldedRun? { histories.withLock { Self.record(of: id, in: $0) }?.1.run }

    /// The folded run with `id`: its history and record, checked against the full id.
    private static func record(of id: RingID, in histories: Histories) -> (HistoryFile, RunRecord)? {
        for place in histories.table.places(of: id) {
            guard let history = histories.byNumber[place.history],
                  let record = try? history.record(at: place.record), record.run.id == id, !record.erased
            else { continue }
            return (history, record)
        }
        return nil
    }

    /// The rings `filter` names. Folded runs are read from their entries one by one: a caller
    /// that needs only what their records say asks `foldedRuns(matching:)`.
    public func rings(matching filter: RingFilter = RingFilter()) -> [Ring] {
        var found = filter.folded == true ? [] : rings.withLock { Array($0.values) }.filter(filter.matches)
        if filter.folded != false, filter.finished != false {
            for history in matchingHistories(filter) {
                for record in (try? history.records()) ?? [] where filter.run == nil || filter.run == record.run.run {
                    if let ring = try? history.ring(record), filter.matches(ring) { found.append(ring) }
                }
            }
        }
        return found.sorted { $0.id < $1.id }
    }

    /// The folded runs `filter` names, as their records say, oldest fold first per history.
    public func foldedRuns(matching filter: RingFilter = RingFilter()) throws -> [FoldedRun] {
        guard filter.folded != false, filter.finished != false else { return [] }
        return try matchingHistories(filter).flatMap { try $0.records() }.map(\.run).filter { filter.run == nil || filter.run == $0.run }
    }

    private func matchingHistories(_ filter: RingFilter) -> [HistoryFile] {
        histories.withLock { Array($0.byNumber.values) }.filter { history in
            let job = history.job
            return (filter.tool == nil || filter.tool == job.tool) && (filter.kind == nil || filter.kind == job.kind)
                && (filter.name == nil || filter.name == job.name)
        }.sorted { $0.number < $1.number }
    }

    /// Removes a ring and its bytes for good (a purge, or eviction). `durable` (a purge) has
    /// the erasure and the directory's entries on disk before it returns, so that power loss
    /// brings back neither a folded run's bytes nor a ring file a fold removed; eviction leaves
    /// that to `sync()`.
    public func delete(_ id: RingID, durable: Bool = true) throws {
        let history = try remove(id)
        if durable { try syncRemovals(history.map { [$0] } ?? []) }
    }

    /// Removes a ring; returns the history it was folded into, if it was.
    private func remove(_ id: RingID) throws -> HistoryFile? {
        try maintenance.withLock { _ in
            if let ring = rings.withLock({ $0.removeValue(forKey: id) }) {
                try ring.destroy()
                entriesChanged.store(true, ordering: .releasing)
                return nil
            }
            guard let (history, record) = histories.withLock({ Self.record(of: id, in: $0) }) else {
                throw RingStoreError.unknownRing(id.description)
            }
            let empty = try history.erase(recordAt: record.at)
            DecodedBlockCache.shared.forget(ring: id)
            histories.withLock {
                $0.table.remove(id, .init(history: history.number, record: record.at))
                if empty { $0.drop(history) }
            }
            if empty { history.remove() }
            return history
        }
    }

    /// Puts removals on disk: the histories' erasures, then the directory's entries.
    private func syncRemovals(_ histories: [HistoryFile]) throws {
        var synced = Set<ObjectIdentifier>()
        for history in histories where synced.insert(ObjectIdentifier(history)).inserted { try history.sync() }
        if entriesChanged.exchange(false, ordering: .acquiringAndReleasing) {
            do {
                try entries.syncData()
            } catch {
                entriesChanged.store(true, ordering: .releasing)
                throw error
            }
        }
    }

    /// Removes every ring of a tool (the tool was deleted), then syncs once; returns the rings removed.
    @discardableResult
    public func purge(tool: String) throws -> [RingID] {
        let doomed = rings(matching: RingFilter(tool: tool, folded: false)).map(\.id)
            + (try foldedRuns(matching: RingFilter(tool: tool)).map(\.id))
        let histories = try doomed.compactMap { try remove($0) }
        try syncRemovals(histories)
        return doomed
    }

    /// Applies `policy` now; returns what it evicted. `beforeRemoving` is given the metadata of
    /// every ring file to evict, once, before any goes: what the caller must remember of them
    /// (the agent, which containers not to read in again) is recorded first, in one write. A
    /// folded run's container was given to `fold`'s `beforeFolding` already.
    @discardableResult
    public func enforce(_ policy: RetentionPolicy, now: Int64,
                        beforeRemoving: ([RingMetadata]) -> Void = { _ in }) throws -> [Eviction] {
        let infos = try rings(matching: RingFilter(folded: false)).map { try $0.info() }
        let metadata = Dictionary(infos.map { ($0.id, $0.metadata) }, uniquingKeysWith: { first, _ in first })
        let queues = histories.withLock { $0.byNumber.values.sorted { $0.number < $1.number } }.map(HistoryQueue.init)
        let evictions = try policy.evictions(infos, histories: queues, now: now)
        let files = evictions.flatMap(\.rings).compactMap { metadata[$0] }
        if !files.isEmpty { beforeRemoving(files) }
        for eviction in evictions {
            for id in eviction.rings {
                do {
                    _ = try remove(id)
                } catch RingStoreError.unknownRing {
                    // Purged meanwhile: gone all the same.
                }
            }
        }
        return evictions
    }

    /// Seals the open block of every live ring that took no record for `idle` and holds at least
    /// `minimumBytes` of staged records, so a container that went quiet has its last lines
    /// compressed too. Every ring is tried; the first failure is thrown after. Returns how many
    /// blocks it sealed.
    @discardableResult
    public func sealIdleBlocks(idleFor idle: Duration = .seconds(300), minimumBytes: Int = 4096) throws -> Int {
        var sealed = 0
        var failure: (any Error)?
        for ring in rings(matching: RingFilter(finished: false)) {
            do {
                if try ring.sealOpenBlock(ifIdleFor: idle, minimumBytes: minimumBytes) { sealed += 1 }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return sealed
    }

    /// Forces to disk what was written since the last call: the rings appended to, created or
    /// finished, and the directory's entries when rings came or went. Appends never sync by
    /// themselves (see `Ring.sync()`); the agent calls this every few seconds on a thread of
    /// its own. Every ring is tried even when one fails; the first failure is thrown after.
    /// Returns how many files it synced.
    @discardableResult
    public func sync() throws -> Int {
        var synced = 0
        var failure: (any Error)?
        for ring in rings.withLock({ Array($0.values) }) {
            do {
                if try ring.sync() { synced += 1 }
            } catch {
                failure = failure ?? error
            }
        }
        for history in histories.withLock({ Array($0.byNumber.values) }) {
            do {
                try history.sync()
            } catch {
                failure = failure ?? error
            }
        }
        if entriesChanged.exchange(false, ordering: .acquiringAndReleasing) {
            do {
                try entries.syncData()
                synced += 1
            } catch {
                entriesChanged.store(true, ordering: .releasing)
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return synced
    }

    public func usage(budgetBytes: UInt64? = nil) throws -> UsageReport {
        UsageReport(try rings(matching: RingFilter(folded: false)).map { try $0.info() },
                    folded: histories.withLock { $0.byNumber.values.map { ($0.job, $0.tally) } }, budgetBytes: budgetBytes)
    }
}
