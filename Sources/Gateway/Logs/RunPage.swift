import AgentWire
import HTTPEnvelope
import LogModel

/// One page of a job's runs, newest first (by start, then run name), with a keyset cursor: the
/// `next` of a page names its last run, and the next page holds the runs after it in that
/// order, so a deep page costs what the first does (an offset would cost the runs before it)
/// and a run that starts meanwhile never shifts a page under a reader.
///
/// The runs come from the index (live, and finished ones not folded yet) and from each node
/// that folded runs of the job (a page of its own, `JobRun.page`): the page of the whole job is
/// the newest of those together.
struct RunPage {
    typealias Run = Components.Schemas.Run

    var runs: [Run]
    var next: String?
    var total: Int
    var oldest: String?

    static let defaultLimit = 50

    /// `runs`: the indexed runs and the nodes' pages together; `indexed`: the indexed ones
    /// alone; `folded`: how many runs in `state` the nodes hold in all, and the oldest start.
    /// A run with segments both indexed and folded counts once when this page holds it (a
    /// retried Job whose first pod folded while its retry still runs).
    init(_ runs: [JobRun], indexed: [JobRun], folded: (runs: Int, oldest: String?), before: JobRun.Key?, state: JobRun.State?,
         limit: Int, reachable: (String) -> Bool) {
        let page = JobRun.page(runs, before: before, state: state, limit: limit + 1)
        self.runs = page.runs.prefix(limit).map { Self.row($0, reachable: reachable) }
        next = page.runs.count > limit ? Self.text(page.runs[limit - 1].key) : nil
        let indexedMatching = indexed.filter { state.map($0.isIn) ?? true }
        // Runs with segments on both sides: counted by the index and by a node.
        let indexedSegments = Dictionary(indexed.map { ($0.run, $0.segments.count) }, uniquingKeysWith: max)
        let split = runs.filter { run in indexedSegments[run.run].map { $0 < run.segments.count } ?? false }
        total = indexedMatching.count + folded.runs - split.filter { state.map($0.isIn) ?? true }.count
        oldest = (indexedMatching.compactMap(\.started) + [folded.oldest].compactMap { $0 }).min()
    }

    private static func row(_ run: JobRun, reachable: (String) -> Bool) -> Run {
        let newest = run.newest
        return Run(run: run.run, state: run.isLive ? .live : .finished, started: run.started, finished: newest.finishedAt,
                   exitCode: newest.exitCode.map(Int.init), reason: newest.reason, segments: run.segments.count,
                   bytesKept: run.segments.reduce(0) { $0 + Int($1.keptBytes) },
                   available: run.segments.allSatisfy { reachable($0.node) })
    }

    /// A page's end as the API gives it: `r1.` and the last run's start and name, base64url.
    static func text(_ key: JobRun.Key) -> String { "r1." + Base64.encode(Array("\(key.started)\n\(key.run)".utf8), urlSafe: true) }

    static func key(parsing text: String) throws -> JobRun.Key {
        let invalid = EnvelopeError(.badRequest, "before: not a cursor of this API's runs: \(text.prefix(80))")
        guard text.hasPrefix("r1."), let bytes = Base64.decode(String(text.dropFirst(3)), urlSafe: true) else { throw invalid }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else { throw invalid }
        return JobRun.Key(started: String(parts[0]), run: String(parts[1]))
    }
}
