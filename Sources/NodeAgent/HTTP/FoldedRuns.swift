import AgentWire
import HTTPEnvelope
import RingStore

/// The runs this node folded into history files, as a gateway asks for them: by job, for one
/// read or one page of runs (`AgentRoutes.foldedRings`, `.foldedRuns`). The inventory names
/// only the jobs that have them, so that no gateway indexes every finished run of the fleet.
/// Runs are chosen and paged on their index records (`InventoryRow.brief`); only the runs
/// answered are read from their entries: a job keeps thousands of runs.
struct FoldedRuns: Sendable {
    let node: String
    let store: RingDirectory

    /// The folded rings of `tool` that `query` names, narrowed by its window and count.
    func rings(tool: String, _ query: FoldedQuery) throws -> FoldedAnswer {
        let briefs = try candidates(tool: tool, query).map { InventoryRow.brief($0, node: node, window: true) }
        return FoldedAnswer(rings: try rows(query.choice.choose(briefs) { $0 }))
    }

    /// A page of runs, newest first, their segments as rings; with how many runs match in all.
    /// Only the page's runs are read from their entries: a record keeps no pod, container or
    /// reason but OOMKilled, which a listing shows.
    func runs(tool: String, _ query: FoldedQuery) throws -> FoldedAnswer {
        let briefs = try candidates(tool: tool, query).map { InventoryRow.brief($0, node: node, window: false) }
        let page = JobRun.page(JobRun.group(briefs), before: query.before, state: query.state,
                               limit: query.limit ?? FoldedQuery.maxLimit + 1)
        // In the page's order: newest run first.
        return FoldedAnswer(rings: try rows(page.runs.flatMap(\.segments)), runs: page.total, oldest: page.oldest)
    }

    /// The full rows of `briefs`, read from their entries; a run erased meanwhile is left out.
    private func rows(_ briefs: [AgentRing]) throws -> [AgentRing] {
        try briefs.compactMap { brief in
            try RingID(brief.id).flatMap(store.ring).map { try InventoryRow.make($0.info(), node: node) }
        }
    }

    /// The folded runs that `query` names, as their records say.
    private func candidates(tool: String, _ query: FoldedQuery) throws -> [FoldedRun] {
        let ids = Set(query.ids)
        return try store.foldedRuns(matching: RingFilter(tool: tool, name: query.name, run: query.run)).filter { run in
            (ids.isEmpty || ids.contains(run.id.description)) && (query.kinds.isEmpty || query.kinds.contains(AgentRing.Kind(run.job.kind)))
        }
    }
}
