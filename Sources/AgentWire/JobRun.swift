/// One run of a job as its segments make it (a retried Job's pods, sidecars): how runs are
/// listed, paged and filtered, by the gateway over the rings it indexes and by the agent over
/// the runs it folded, alike.
public struct JobRun: Sendable {
    /// Where a run stands in a listing: newest first by start, then by name.
    public struct Key: Comparable, Hashable, Sendable {
        public var started: String
        public var run: String

        public init(started: String, run: String) {
            self.started = started
            self.run = run
        }

        public static func < (lhs: Key, rhs: Key) -> Bool { (lhs.started, lhs.run) < (rhs.started, rhs.run) }
    }

    /// Which runs a listing keeps.
    public enum State: String, Sendable, CaseIterable {
        case live, finished
        /// Finished with a nonzero exit code, or killed for its memory.
        case failed
    }

    public let run: String
    public let segments: [AgentRing]
    /// The earliest start of its segments.
    public let started: String?
    /// Kept, not computed: a page sorts thousands of runs by it.
    public let key: Key

    public init(run: String, segments: [AgentRing]) {
        self.run = run
        self.segments = segments
        started = segments.lazy.compactMap(\.startedAt).min()
        key = Key(started: started ?? "", run: run)
    }

    public var isLive: Bool { segments.contains { $0.state == .live } }

    /// The last segment; among equals (a retried Job's pods, sidecars) the latest started, then by id.
    public var newest: AgentRing {
        segments.max { ($0.segment, $0.startedAt ?? "", $0.id) < ($1.segment, $1.startedAt ?? "", $1.id) }!
    }

    public func isIn(_ state: State) -> Bool {
        switch state {
        case .live: return isLive
        case .finished: return !isLive
        case .failed:
            let last = newest
            return !isLive && ((last.exitCode ?? 0) != 0 || last.reason == "OOMKilled")
        }
    }

    /// The runs that `rings` make, in no order.
    public static func group(_ rings: [AgentRing]) -> [JobRun] {
        Dictionary(grouping: rings, by: \.run).map { JobRun(run: $0.key, segments: $0.value) }
    }

    /// A page of `runs`: those in `state`, before `key` (older), newest first, at most `limit`;
    /// with how many are in `state` in all, and the oldest start among them.
    public static func page(_ runs: [JobRun], before key: Key?, state: State?, limit: Int)
        -> (runs: [JobRun], total: Int, oldest: String?) {
        let matching = runs.filter { state.map($0.isIn) ?? true }
        let older = matching.filter { run in key.map { run.key < $0 } ?? true }
        // Sorted by position: moving a run moves five references, and a node's job has thousands.
        let newestFirst = older.indices.sorted { older[$0].key > older[$1].key }
        return (newestFirst.prefix(limit).map { older[$0] }, matching.count, matching.lazy.compactMap(\.started).min())
    }
}
