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
    /// The runs are grouped and paged on what the rings' metadata says (`InventoryRow.brief`);
    /// only the page's rings are read for their full rows: a job keeps thousands of runs.
    func runs(tool: String, _ query: FoldedQuery) throws -> FoldedAnswer {
        let rings = candidates(tool: tool, query)
        let briefs = rings.map { InventoryRow.brief($0, node: node) }
        let page = JobRun.page(JobRun.group(briefs), before: query.before, state: query.state,
                               limit: query.limit ?? FoldedQuery.maxLimit + 1)
        let byID = Dictionary(rings.map { ($0.id.description, $0) }, uniquingKeysWith: { first, _ in first })
        // In the page's order: newest run first.
        let rows = try page.runs.flatMap(\.segments).compactMap { brief in try byID[brief.id].map { try InventoryRow.make($0.info(), node: node) } }
        return FoldedAnswer(rings: rows, runs: page.total, oldest: page.oldest)
    }

    /// The folded rings that `query` names, as the inventory lists rings.
    private func matching(tool: String, _ query: FoldedQuery) throws -> [AgentRing] {
        try candidates(tool: tool, query).map { try InventoryRow.make($0.info(), node: node) }
    }

    /// The folded rings that `query` names. Names are compared before a ring's state is read:
    /// a job's history may hold thousands of runs of others.
    private func candidates(tool: String, _ query: FoldedQuery) -> [Ring] {
        let ids = Set(query.ids)
        return store.rings(matching: RingFilter(tool: tool, name: query.name, run: query.run, folded: true))
            .filter { ring in
                (ids.isEmpty || ids.contains(ring.id.description))
                    && (query.kinds.isEmpty || query.kinds.contains(AgentRing.Kind(ring.metadata.kind)))
            }
    }
}
