/// What a node's data directory holds: what operators see per node.
public struct UsageReport: Sendable, Equatable, Codable {
    public struct ToolUsage: Sendable, Equatable, Codable {
        public var tool: String
        /// Bytes on disk: after compression.
        public var bytes: UInt64
        /// Log bytes its rings hold as they were given: before compression.
        public var keptBytes: UInt64
        public var rings: Int
        public var liveRings: Int
        /// Finished runs kept (a run's segments count once), and finished rings folded into history files.
        public var runs: Int
        public var foldedRings: Int
        public var rolledBytes: UInt64
        public var droppedBytes: UInt64
        public var truncatedRecords: UInt64
    }

    public struct RingUsage: Sendable, Equatable, Codable {
        public var id: RingID
        public var tool: String
        public var kind: RingKind
        public var name: String
        public var run: String
        public var bytes: UInt64
        public var finished: Bool
        public var rolledBytes: UInt64
        public var droppedBytes: UInt64
    }

    public var budgetBytes: UInt64?
    public var usedBytes: UInt64
    /// Log bytes all rings hold as they were given; `usedBytes` is what they take on disk.
    public var keptBytes: UInt64
    public var liveRings: Int
    public var finishedRings: Int
    /// Finished rings folded into history files (a part of `finishedRings`).
    public var foldedRings: Int
    public var rolledBytes: UInt64
    public var droppedBytes: UInt64
    public var tools: [ToolUsage]
    public var rings: [RingUsage]

    /// Ring files from their infos; folded runs from their histories' tallies, each segment
    /// counted as a run (their records keep no roll-over counters: a run folds only when small).
    init(_ infos: [RingInfo], folded: [(JobKey, HistoryFile.Tally)], budgetBytes: UInt64?) {
        self.budgetBytes = budgetBytes
        let foldedRuns = folded.reduce(0) { $0 + $1.1.runs }
        usedBytes = infos.reduce(0) { $0 + $1.diskBytes } + folded.reduce(0) { $0 + $1.1.bytes }
        keptBytes = infos.reduce(0) { $0 + $1.keptBytes } + folded.reduce(0) { $0 + $1.1.keptBytes }
        liveRings = infos.filter { !$0.finished }.count
        finishedRings = infos.count - liveRings + foldedRuns
        foldedRings = foldedRuns
        rolledBytes = infos.reduce(0) { $0 + $1.counters.rolledBytes }
        droppedBytes = infos.reduce(0) { $0 + $1.counters.droppedBytes }
        rings = infos.map {
            RingUsage(id: $0.id, tool: $0.metadata.tool, kind: $0.metadata.kind, name: $0.metadata.name,
                      run: $0.metadata.run, bytes: $0.diskBytes, finished: $0.finished,
                      rolledBytes: $0.counters.rolledBytes, droppedBytes: $0.counters.droppedBytes)
        }.sorted { ($0.tool, $0.id) < ($1.tool, $1.id) }
        let foldedByTool = Dictionary(grouping: folded, by: \.0.tool)
        tools = Set(infos.map(\.metadata.tool)).union(foldedByTool.keys).map { tool in
            let rings = infos.filter { $0.metadata.tool == tool }
            let histories = foldedByTool[tool, default: []].map(\.1)
            let runs = histories.reduce(0) { $0 + $1.runs }
            return ToolUsage(tool: tool, bytes: rings.reduce(0) { $0 + $1.diskBytes } + histories.reduce(0) { $0 + $1.bytes },
                             keptBytes: rings.reduce(0) { $0 + $1.keptBytes } + histories.reduce(0) { $0 + $1.keptBytes },
                             rings: rings.count + runs,
                             liveRings: rings.filter { !$0.finished }.count,
                             runs: Set(rings.filter(\.finished).map { [$0.metadata.kind.rawValue, $0.metadata.name, $0.metadata.run] }).count + runs,
                             foldedRings: runs,
                             rolledBytes: rings.reduce(0) { $0 + $1.counters.rolledBytes },
                             droppedBytes: rings.reduce(0) { $0 + $1.counters.droppedBytes },
                             truncatedRecords: rings.reduce(0) { $0 + $1.counters.truncatedRecords })
        }.sorted { $0.tool < $1.tool }
    }
}
