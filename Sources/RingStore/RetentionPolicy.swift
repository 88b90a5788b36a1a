/// How much a node keeps, by size first. Only finished runs are ever evicted, oldest first; a
/// live ring stays within its own capacities by rolling its suffix.
public struct RetentionPolicy: Sendable, Equatable {
    /// Bytes on disk for the whole data directory.
    public var budgetBytes: UInt64
    /// The part of the budget one tool may hold (0...1).
    public var toolShare: Double
    /// At most this many finished runs per (tool, kind, name), a run's segments counting as one;
    /// nil (the default) keeps as many as the bytes allow.
    public var keepRuns: Int?
    /// Finished runs older than this are evicted; nil keeps them until space is needed.
    public var maxAge: Duration?

    public init(budgetBytes: UInt64, toolShare: Double = 0.25, keepRuns: Int? = nil, maxAge: Duration? = nil) {
        self.budgetBytes = budgetBytes
        self.toolShare = toolShare
        self.keepRuns = keepRuns
        self.maxAge = maxAge
    }

    var toolBudget: UInt64 { UInt64(Double(budgetBytes) * Swift.min(Swift.max(toolShare, 0), 1)) }
}

/// A run removed by retention, and the rule that removed it.
public struct Eviction: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        case maxAge = "max-age"
        case keepRuns = "keep-runs"
        case toolShare = "tool-share"
        case budget
    }

    public var tool: String
    public var kind: RingKind
    public var name: String
    public var run: String
    public var rings: [RingID]
    public var bytes: UInt64
    public var reason: Reason
}

/// One run's finished rings, as retention sees them.
struct RunGroup {
    var tool: String
    var kind: RingKind
    var name: String
    var run: String
    var rings: [RingID] = []
    var bytes: UInt64 = 0
    /// When the run ended: its latest finish time, else its latest record.
    var endedAt: Int64 = .min
    var live = false

    var job: String { RunGroup.key(JobKey(tool: tool, kind: kind, name: name)) }

    static func key(_ job: JobKey) -> String { "\(job.tool)\u{0}\(job.kind.rawValue)\u{0}\(job.name)" }

    /// Groups rings into runs; runs with any live ring are marked live (never evicted).
    static func group(_ infos: [RingInfo]) -> [RunGroup] {
        var groups: [String: RunGroup] = [:]
        for info in infos {
            let meta = info.metadata
            let key = "\(meta.tool)\u{0}\(meta.kind.rawValue)\u{0}\(meta.name)\u{0}\(meta.run)"
            var group = groups[key] ?? RunGroup(tool: meta.tool, kind: meta.kind, name: meta.name, run: meta.run)
            group.rings.append(info.id)
            group.bytes += info.diskBytes
            group.endedAt = Swift.max(group.endedAt, meta.finishedAt ?? info.lastTimestamp ?? info.createdAt)
            group.live = group.live || !info.finished
            groups[key] = group
        }
        return groups.values.sorted { ($0.endedAt, $0.run) < ($1.endedAt, $1.run) }
    }
}

/// One job's history as retention sees it: its folded runs oldest first, read from the index
/// only as far as retention gets (a pass that evicts nothing reads no record).
final class HistoryQueue {
    let history: HistoryFile
    private(set) var runs: Int
    private(set) var bytes: UInt64
    private var ahead: [RunRecord] = []
    private var next: UInt64?
    private var started = false

    init(_ history: HistoryFile) {
        self.history = history
        let tally = history.tally
        runs = tally.runs
        bytes = tally.bytes
        oldestHint = tally.oldestEnd
    }

    private let oldestHint: Int64?
    var job: JobKey { history.job }
    /// Runs never to evict (live elsewhere): passed over, and left in the history. Nil when the
    /// job has no live run: the history's counters then say enough without reading a record.
    var keep: ((FoldedRun) -> Bool)?

    /// When the oldest run that may go ended; nil when none is left.
    func oldestEnd() throws -> Int64? {
        guard started || keep != nil else { return runs > 0 ? oldestHint : nil }
        return try peek()?.run.endedAt
    }

    /// Runs that may go, of those left: all but the kept, which are counted by reading the
    /// history's records (only a job with a live run has any).
    func evictable() throws -> Int {
        guard let keep else { return runs }
        return try history.records().filter { !keep($0.run) }.count
    }

    func peek() throws -> RunRecord? {
        started = true
        while true {
            if ahead.isEmpty, runs > 0 {
                (ahead, next) = try history.records(from: next, count: 64)
                ahead.reverse()
                if ahead.isEmpty { runs = 0 }
            }
            guard let first = ahead.last, keep?(first.run) == true else { return ahead.last }
            ahead.removeLast()
            runs -= 1
        }
    }

    func pop() throws -> RunRecord? {
        guard try peek() != nil else { return nil }
        let record = ahead.removeLast()
        runs -= 1
        bytes -= Swift.min(record.run.diskBytes, bytes)
        return record
    }
}

extension RetentionPolicy {
    /// What to evict, in order, and why: of the runs in ring files (`infos`) and of each job's
    /// folded runs (`histories`), oldest first. The directory carries it out.
    func evictions(_ infos: [RingInfo], histories: [HistoryQueue], now: Int64) throws -> [Eviction] {
        var runs = RunGroup.group(infos)
        var evicted: [Eviction] = []
        var total = infos.reduce(0) { $0 + $1.diskBytes } + histories.reduce(0) { $0 + $1.bytes }
        var perTool: [String: UInt64] = [:]
        for info in infos { perTool[info.metadata.tool, default: 0] += info.diskBytes }
        for history in histories { perTool[history.job.tool, default: 0] += history.bytes }

        func evict(_ index: Int, _ reason: Eviction.Reason) {
            let run = runs.remove(at: index)
            total -= run.bytes
            perTool[run.tool, default: 0] -= run.bytes
            evicted.append(Eviction(tool: run.tool, kind: run.kind, name: run.name, run: run.run,
                                    rings: run.rings, bytes: run.bytes, reason: reason))
        }
        // A folded run goes segment by segment: its record is the unit of a history. A segment
        // of a run that is still live in a ring file (a retried Job's earlier pod) stays.
        let liveRuns = Set(runs.filter(\.live).map { $0.job + "\u{0}" + $0.run })
        for history in histories {
            let job = RunGroup.key(history.job) + "\u{0}"
            if liveRuns.contains(where: { $0.hasPrefix(job) }) { history.keep = { liveRuns.contains(job + $0.run) } }
        }
        func evict(_ history: HistoryQueue, _ reason: Eviction.Reason) throws -> Bool {
            guard let record = try history.pop() else { return false }
            // Saturating: a purge meanwhile may have taken runs the tally counted.
            total -= Swift.min(record.run.diskBytes, total)
            perTool[history.job.tool, default: 0] -= Swift.min(record.run.diskBytes, perTool[history.job.tool, default: 0])
            evicted.append(Eviction(tool: history.job.tool, kind: history.job.kind, name: history.job.name, run: record.run.run,
                                    rings: [record.run.id], bytes: record.run.diskBytes, reason: reason))
            return true
        }
        /// The oldest finished run that `included` takes, in a ring file or in a history.
        func evictOldest(_ reason: Eviction.Reason, job: String? = nil, tool: String? = nil) throws -> Bool {
            let file = runs.firstIndex { !$0.live && (job == nil || $0.job == job) && (tool == nil || $0.tool == tool) }
            var oldest: (HistoryQueue, Int64)?
            for history in histories where (job == nil || RunGroup.key(history.job) == job) && (tool == nil || history.job.tool == tool) {
                if let end = try history.oldestEnd(), end < oldest?.1 ?? .max { oldest = (history, end) }
            }
            // Ended at the same time, runs go in the order of their names, as ring files do.
            func older(_ history: HistoryQueue, _ end: Int64, than run: RunGroup) throws -> Bool {
                end != run.endedAt ? end < run.endedAt : try (history.peek()?.run.run ?? "") < run.run
            }
            if let (history, end) = oldest, try file.map({ try older(history, end, than: runs[$0]) }) ?? true {
                return try evict(history, reason)
            } else if let file {
                evict(file, reason)
            } else {
                return false
            }
            return true
        }

        if let maxAge {
            let (seconds, attoseconds) = maxAge.components
            let cutoff = now - seconds * 1_000_000_000 - attoseconds / 1_000_000_000
            while let index = runs.firstIndex(where: { !$0.live && $0.endedAt < cutoff }) { evict(index, .maxAge) }
            for history in histories {
                while let end = try history.oldestEnd(), end < cutoff, try evict(history, .maxAge) {}
            }
        }
        if let keepRuns {
            var kept: [String: Int] = [:]
            for run in runs where !run.live { kept[run.job, default: 0] += 1 }
            for history in histories { kept[RunGroup.key(history.job), default: 0] += try history.evictable() }
            for (job, count) in kept.sorted(by: { $0.key < $1.key }) where count > keepRuns {
                for _ in keepRuns..<count where try !evictOldest(.keepRuns, job: job) { break }
            }
        }
        let toolLimit = toolBudget
        for (tool, _) in perTool.sorted(by: { $0.key < $1.key }) {
            while perTool[tool, default: 0] > toolLimit, try evictOldest(.toolShare, tool: tool) {}
        }
        while total > budgetBytes, try evictOldest(.budget) {}
        return evicted
    }
}
