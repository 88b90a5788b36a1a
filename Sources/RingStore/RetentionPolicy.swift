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

    var job: String { "\(tool)\u{0}\(kind.rawValue)\u{0}\(name)" }

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

extension RetentionPolicy {
    /// What to evict from `infos`, in order, and why. Pure: the directory carries it out.
    func evictions(_ infos: [RingInfo], now: Int64) -> [Eviction] {
        var runs = RunGroup.group(infos)
        var evicted: [Eviction] = []
        var total = infos.reduce(0) { $0 + $1.diskBytes }
        var perTool: [String: UInt64] = [:]
        for info in infos { perTool[info.metadata.tool, default: 0] += info.diskBytes }

        func evict(_ index: Int, _ reason: Eviction.Reason) {
            let run = runs.remove(at: index)
            total -= run.bytes
            perTool[run.tool, default: 0] -= run.bytes
            evicted.append(Eviction(tool: run.tool, kind: run.kind, name: run.name, run: run.run,
                                    rings: run.rings, bytes: run.bytes, reason: reason))
        }

        if let maxAge {
            let (seconds, attoseconds) = maxAge.components
            let cutoff = now - seconds * 1_000_000_000 - attoseconds / 1_000_000_000
            while let index = runs.firstIndex(where: { !$0.live && $0.endedAt < cutoff }) { evict(index, .maxAge) }
        }
        // Newest first within each job: everything past the K-th finished run goes.
        if let keepRuns {
            var seen: [String: Int] = [:]
            for index in runs.indices.reversed() where !runs[index].live {
                seen[runs[index].job, default: 0] += 1
                if seen[runs[index].job]! > keepRuns { evict(index, .keepRuns) }
            }
        }
        let toolLimit = toolBudget
        for (tool, _) in perTool.sorted(by: { $0.key < $1.key }) {
            while perTool[tool, default: 0] > toolLimit,
                  let index = runs.firstIndex(where: { !$0.live && $0.tool == tool }) {
                evict(index, .toolShare)
            }
        }
        while total > budgetBytes, let index = runs.firstIndex(where: { !$0.live }) { evict(index, .budget) }
        return evicted
    }
}
