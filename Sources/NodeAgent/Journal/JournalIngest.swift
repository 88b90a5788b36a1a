import Foundation
import LogModel
import Logging
import RingStore
import Synchronization
import SystemdSupport

/// journald as a log source: follows a journal directory into one continuous ring per
/// (tool, container name, container run), for entries that name a tool. A run's ring is
/// finished when a newer run of the same container appears, or when it has been idle for
/// `idleFinish`: then retention can evict it like any finished run.
///
/// Exact across a kill: every append stores, atomically with its records, the position of the
/// ring's last entry (``JournalPosition``). A restart reads again from the oldest of those
/// positions and, for each ring, passes over what it holds already: entries up to its own
/// cursor, or, if that entry was vacuumed, up to its realtime.
///
/// `@unchecked Sendable`: `stats` and the stop flag are behind mutexes; everything else
/// (the `sd_journal`, which must not be used from two threads, and the tables) is used by
/// `init` and then by the ingest thread alone.
final class JournalIngest: @unchecked Sendable {
    let configuration: JournalConfiguration
    let stats = Mutex(JournalStats())
    private let stopping = Mutex(false)
    private let started = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    private let store: RingDirectory
    private let node: String
    private let capacities: RingCapacities
    private let inventory: Inventory
    private let health: AgentHealth
    private let logger: Logger

    private let reader: JournalReader
    private var mapper: JournalMapper
    private var rings: [String: JournalRing] = [:]
    /// Runs whose rings were finished, by key: their entries up to where they ended are in
    /// those rings, never again in a new one (a restart reads again from an earlier position).
    private var finishedRuns: [String: FinishedRun] = [:]
    /// Rings passing over entries they hold, by the cursor that ends their replay.
    private var replayEnds: [String: [String]] = [:]
    /// The last entry read, whatever its ring.
    private var lastRead: JournalPosition
    /// Where the batch in `batch` began: every ring holds every entry of its own up to here.
    private var batchStart: JournalPosition
    /// Read but not yet appended, by ring key; kept until appended (a full disk is retried).
    private var batch: [String: PendingAppend] = [:]
    private var lastAdvance = ContinuousClock.now
    private var markSaves = RepeatingFailure(.journalPosition)

    static let batchSize = 1000
    /// How often rings that received nothing are moved up to the read position, so that a
    /// restart does not reread the journal since a long-silent container's last line.
    static let advanceInterval = Duration.seconds(300)

    init(configuration: JournalConfiguration, store: RingDirectory, node: String, capacities: RingCapacities,
         inventory: Inventory, health: AgentHealth, logger: Logger) throws {
        self.configuration = configuration
        self.store = store
        self.node = node
        self.capacities = capacities
        self.inventory = inventory
        self.health = health
        self.logger = logger
        mapper = try JournalMapper(configuration)
        reader = try JournalReader(directory: configuration.directory)

        for ring in store.rings(matching: RingFilter(kind: .continuous, finished: false)) {
            guard let key = ring.metadata.journalKey else { continue }
            if let other = rings[key] {
                logger.warning("two journal rings hold one run: appending to the first", metadata: ["first": "\(other.ring.id)", "second": "\(ring.id)", "run": "\(key)"])
                continue
            }
            rings[key] = JournalRing(ring: ring, position: JournalPosition(ring.sourcePosition),
                                     route: JournalRoute(tool: ring.metadata.tool, name: ring.metadata.name, run: ring.metadata.run))
        }
        // The journal's runs never fold (`FoldPolicy`): their ring files keep their positions.
        for ring in store.rings(matching: RingFilter(kind: .continuous, finished: true, folded: false)) {
            guard let key = ring.metadata.journalKey, let position = JournalPosition(ring.sourcePosition) else { continue }
            finishedRuns[key, default: FinishedRun(position: position)].add(position)
        }
        // From the oldest live ring's position; with none, from where reading had got to (what
        // finished rings and the read mark say), so that nothing already taken comes again.
        let taken = ([JournalMark.read(in: store.path)] + finishedRuns.values.map(\.position)).compactMap { $0 }
        let start = rings.values.compactMap(\.position).min { $0.realtime < $1.realtime }
            ?? taken.max { $0.realtime < $1.realtime } ?? .head
        let existing = JournalReader.existing(Set(rings.values.compactMap { $0.position?.cursor }.filter { !$0.isEmpty }),
                                               directory: configuration.directory)
        for (key, slot) in rings {
            // No position: the ring never got one, so it holds nothing. Head: nothing to pass.
            guard let position = slot.position, position != .head else { continue }
            if position.cursor.isEmpty || !existing.contains(position.cursor) {
                rings[key]!.replay = .until(realtime: position.realtime)
            } else if position.cursor != start.cursor {
                rings[key]!.replay = .untilCursor
                replayEnds[position.cursor, default: []].append(key)
            }
            // A ring whose cursor is the start is past it: the reader resumes after it.
        }
        if start.cursor.isEmpty {
            try reader.seekHead()
        } else {
            try reader.seek(cursor: start.cursor)
        }
        lastRead = start
        batchStart = start
        stats.withLock { $0.rings = rings.count }
    }

    func start() {
        guard !started.withLock({ started in defer { started = true }; return started }) else { return }
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "journal-ingest"
        thread.start()
    }

    /// Stops after the batch in progress and waits: every entry read is in its ring, or will
    /// be read again by the next start. A second call returns at once.
    func stop() {
        let first = stopping.withLock { stopping in defer { stopping = true }; return !stopping }
        guard first, started.withLock({ $0 }) else { return }
        done.wait()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func run() {
        while !isStopping {
            var atEnd = false
            if batch.isEmpty { atEnd = readBatch() }
            guard appendBatch() else {
                // A full disk: retry the same batch, without reading more, until it fits.
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            if ContinuousClock.now - lastAdvance >= JournalIngest.advanceInterval { advanceIdleRings() }
            if batch.isEmpty { finishIdleRings() }
            if atEnd {
                do {
                    _ = try reader.wait(timeout: .seconds(1))
                } catch {
                    logger.error("journal wait failed", metadata: ["error": "\(error)"])
                    Thread.sleep(forTimeInterval: 1)
                }
            }
        }
        if batch.isEmpty { advanceIdleRings() }
        for slot in rings.values {
            do {
                try slot.ring.sync()
            } catch {
                AgentFailure.syncAtStop.record(error, logger: logger, ["ring": "\(slot.ring.id)"])
            }
        }
    }

    // MARK: reading

    /// Reads up to a batch of entries into `batch`; true if the reader has no more for now.
    private func readBatch() -> Bool {
        var count = 0
        var skipped: UInt64 = 0
        defer { if skipped > 0 { stats.withLock { $0.skipped += skipped } } }
        do {
            while count < JournalIngest.batchSize, let entry = try reader.next() {
                count += 1
                lastRead = JournalPosition(entry)
                if !take(entry) { skipped += 1 }
            }
        } catch {
            logger.error("journal read failed", metadata: ["error": "\(error)"])
            health.ingestFailed(error)
            return true
        }
        if count < JournalIngest.batchSize, !replayEnds.isEmpty {
            // Caught up without meeting these cursors: their entries precede where reading
            // started (the clock stepped back), so nothing of theirs is left to pass over.
            logger.warning("journal cursors not met while catching up; following those rings from here", metadata: ["rings": "\(replayEnds.count)"])
            for key in replayEnds.values.joined() { rings[key]?.replay = nil }
            replayEnds = [:]
        }
        return count < JournalIngest.batchSize
    }

    /// Adds the entry to the batch unless its ring holds it already; false if it maps to no ring.
    private func take(_ entry: JournalEntry) -> Bool {
        let ended = replayEnds.removeValue(forKey: entry.cursor) ?? []
        for key in ended { rings[key]?.replay = nil }
        guard let record = JournalMapper.record(entry), let route = mapper.route(entry) else { return false }
        // The entry a ring's replay ended at is that ring's last one.
        if ended.contains(route.key) { return true }
        if let finished = finishedRuns[route.key], entry.realtime <= finished.position.realtime { return true }
        switch rings[route.key]?.replay {
        case .untilCursor?:
            return true
        case let .until(realtime)? where entry.realtime <= realtime:
            return true
        case .until?:
            rings[route.key]!.replay = nil
        case nil:
            break
        }
        batch[route.key, default: PendingAppend(route: route)].add(record, at: JournalPosition(entry))
        return true
    }

    // MARK: appending

    /// Appends the batch, one call per ring; true when all of it is in.
    private func appendBatch() -> Bool {
        guard !batch.isEmpty else {
            batchStart = lastRead
            return true
        }
        // Every new ring gets the batch's start as its position before anything of the batch
        // is appended: were it left without one and the agent killed after another ring's
        // append, the restart would begin past this ring's first entries.
        var newRuns = Set<String>()
        for (key, pending) in batch where rings[key]?.position == nil {
            do {
                // A run that was finished and speaks again gets a new segment; a new run ends
                // its container's earlier ones (below).
                if rings[key] == nil, finishedRuns[key] == nil { newRuns.insert(key) }
                let ring = try rings[key]?.ring
                    ?? store.create(metadata: pending.route.metadata(node: node, startedAt: pending.firstTimestamp,
                                                                     segment: finishedRuns[key]?.segments ?? 0),
                                    prefixCapacity: capacities.prefix, suffixCapacity: capacities.suffix,
                                    now: NanoTime.now())
                rings[key] = JournalRing(ring: ring, position: nil, route: pending.route)
                try ring.append([], sourcePosition: batchStart.encoded)
                rings[key]!.position = batchStart
                inventory.touch(ring.id)
            } catch {
                return failed(key, error)
            }
        }
        var appended: UInt64 = 0
        var complete = true
        let batchRuns = Set(batch.keys)
        for (key, pending) in batch {
            guard let slot = rings[key] else { continue }
            do {
                try slot.ring.append(pending.records, sourcePosition: pending.last.encoded)
                rings[key]!.position = pending.last
                rings[key]!.lastAppend = .now
                inventory.touch(slot.ring.id)
                appended += UInt64(pending.records.count)
                batch[key] = nil
            } catch {
                complete = failed(key, error)
            }
        }
        stats.withLock {
            $0.entries += appended
            $0.rings = rings.count
        }
        guard complete else { return false }
        health.ingestSucceeded()
        batchStart = lastRead
        finishEarlierRuns(than: newRuns, except: batchRuns)
        return true
    }

    /// A container's new run means its earlier runs have ended: their rings are finished (a
    /// run that had entries in the same batch is left for the next). Valid only between batches.
    private func finishEarlierRuns(than newRuns: Set<String>, except batchRuns: Set<String>) {
        for key in newRuns {
            guard let newer = rings[key] else { continue }
            for (other, slot) in rings where !batchRuns.contains(other) && slot.route.sameContainer(as: newer.route) {
                finish(other, slot, why: "run \(newer.route.run) began")
            }
        }
    }

    /// Logs a failed append; a ring deleted or finished meanwhile is replaced on the next try.
    private func failed(_ key: String, _ error: Error) -> Bool {
        logger.error("journal ingest failed", metadata: ["run": "\(key)", "error": "\(error)"])
        health.ingestFailed(error)
        if let ring = rings[key]?.ring, ring.isDeleted || ring.isFinished { rings[key] = nil }
        return false
    }

    /// Finishes the rings that have had no entry for `idleFinish`. Valid only between batches.
    private func finishIdleRings() {
        let now = ContinuousClock.now
        for (key, slot) in rings where slot.replay == nil && now - slot.lastAppend >= configuration.idleFinish {
            finish(key, slot, why: "idle for \(configuration.idleFinish)")
        }
    }

    /// Finishes a run's ring and lets it go, its position moved up to the read position (all of
    /// the run up to there is in it): a later entry of that run starts a new segment.
    private func finish(_ key: String, _ slot: JournalRing, why: String) {
        do {
            try slot.ring.append([], sourcePosition: lastRead.encoded)
            try slot.ring.finish()
            finishedRuns[key, default: FinishedRun(position: lastRead)].add(lastRead)
            saveMark()
            inventory.touch(slot.ring.id)
            logger.info("finished a journal ring", metadata: ["ring": "\(slot.ring.id)", "run": "\(key)", "why": "\(why)"])
        } catch {
            logger.warning("cannot finish a journal ring", metadata: ["ring": "\(slot.ring.id)", "error": "\(error)"])
        }
        rings[key] = nil
        replayEnds = replayEnds.mapValues { $0.filter { $0 != key } }.filter { !$0.value.isEmpty }
    }

    /// Saves the read position; a failure is logged once until it heals, and counted every time.
    private func saveMark() {
        do {
            try JournalMark.write(lastRead, in: store.path)
            markSaves.healed()
        } catch {
            markSaves.failed(error, logger: logger, ["directory": "\(store.path)"])
        }
    }

    /// Moves every ring that is not replaying up to the read position. Valid only between
    /// batches: then each holds all of its entries up to there.
    private func advanceIdleRings() {
        lastAdvance = .now
        guard batch.isEmpty, lastRead != .head else { return }
        saveMark()
        for (key, slot) in rings where slot.replay == nil && slot.position != lastRead {
            do {
                try slot.ring.append([], sourcePosition: lastRead.encoded)
                rings[key]!.position = lastRead
            } catch {
                logger.warning("cannot advance a journal ring", metadata: ["run": "\(key)", "error": "\(error)"])
            }
        }
    }
}

/// A journal ring and how far it has taken the journal.
private struct JournalRing {
    var ring: Ring
    /// Nil for a ring created and killed before its first commit, which holds nothing.
    var position: JournalPosition?
    var route: JournalRoute
    /// When an entry was last appended (or the ring found at start).
    var lastAppend = ContinuousClock.now
    /// After a restart, until it ends, this ring's entries are ones it holds already.
    var replay: Replay?

    enum Replay {
        /// Until its own cursor is met (``JournalIngest`` indexes rings by that cursor).
        case untilCursor
        /// Its cursor's entry was vacuumed: entries up to this realtime.
        case until(realtime: UInt64)
    }
}

/// Where a finished run ended, and how many segments it has had.
private struct FinishedRun {
    var position: JournalPosition
    var segments = 0

    mutating func add(_ end: JournalPosition) {
        if end.realtime > position.realtime { position = end }
        segments += 1
    }
}

/// How far reading the journal had got, kept in the data directory (`journal.position`) for a
/// restart when no live journal ring says it: every run up to there is in its ring, or was
/// evicted with it. Written atomically (a new file renamed over the old).
enum JournalMark {
    static func path(in directory: String) -> String { directory + "/journal.position" }

    static func read(in directory: String) -> JournalPosition? {
        (try? Data(contentsOf: URL(fileURLWithPath: path(in: directory)))).flatMap { JournalPosition(Array($0)) }
    }

    static func write(_ position: JournalPosition, in directory: String) throws {
        let temporary = path(in: directory) + ".new"
        try Data(position.encoded).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path(in: directory)) == 0 else { throw AgentError.system("rename \(temporary)", errno) }
    }
}

/// One ring's share of a batch.
private struct PendingAppend {
    let route: JournalRoute
    var records: [AppendEntry] = []
    var last = JournalPosition.head

    init(route: JournalRoute) { self.route = route }

    var firstTimestamp: Int64 {
        if case let .line(timestamp, _, _, _)? = records.first { return timestamp }
        return NanoTime.now()
    }

    mutating func add(_ record: AppendEntry, at position: JournalPosition) {
        records.append(record)
        last = position
    }
}
