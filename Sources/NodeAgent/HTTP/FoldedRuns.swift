import AgentWire
import HTTPEnvelope
import RingStore

/// The runs this node folded into history files, as a gateway asks for them: by job, for one
/// read or one page of runs (`AgentRoutes.foldedRings`, `.foldedRuns`). The inventory names
/// only the jobs that have them, so that no gateway indexes every finished run of the fleet.
struct FoldedRuns: Sendable {
    let node: String
    let store: RingDirectory

    /// The folded rings of `tool` that `query` names, narrowed by its window and count.
    func rings(tool: String, _ query: FoldedQuery) throws -> FoldedAnswer {
        FoldedAnswer(rings: query.choice.choose(try matching(tool: tool, query)) { $0 })
    }

    /// A page of runs, newest first, their segments as rings; with how many runs match in all.
    func runs(tool: String, _ query: FoldedQuery) throws -> FoldedAnswer {
        let page = JobRun.page(JobRun.group(try matching(tool: tool, query)), before: query.before, state: query.state,
                               limit: query.limit ?? FoldedQuery.maxLimit + 1)
        return FoldedAnswer(rings: page.runs.flatMap(\.segments), runs: page.total, oldest: page.oldest)
    }

    /// The folded rings that `query` names, as the inventory lists rings. Names are compared
    /// before a ring's state is read: a job's history may hold thousands of runs of others.
    private func matching(tool: String, _ query: FoldedQuery) throws -> [AgentRing] {
        let ids = Set(query.ids)
        return try store.rings(matching: RingFilter(tool: tool, name: query.name, run: query.run, folded: true))
            .filter { ring in
                (ids.isEmpty || ids.contains(ring.id.description))
                    && (query.kinds.isEmpty || query.kinds.contains(AgentRing.Kind(ring.metadata.kind)))
            }
            .map { try InventoryRow.make($0.info(), node: node) }
    }
}
