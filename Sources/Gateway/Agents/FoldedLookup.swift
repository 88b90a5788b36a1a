import AgentWire

/// Asks the nodes that have folded runs of a selection (the index knows which, not the runs)
/// for those one request needs: one call per node, all at once.
struct FoldedLookup: Sendable {
    let index: AgentIndex
    let client: AgentClient

    struct Found {
        var rings: [(AgentEndpoint, AgentRing)] = []
        /// Runs that match in all, for a page of runs: each node's count, added up.
        var runs = 0
        var oldest: String?
        /// Nodes whose call failed: what they hold is not in the answer.
        var failed: [String] = []

        /// The index's rings that are not among these: a ring that folded since the index last
        /// asked its node is in both, and counts as folded.
        func unfolded(_ indexed: [(AgentEndpoint, AgentRing)]) -> [(AgentEndpoint, AgentRing)] {
            let foldedIDs = Set(rings.map(\.1.id))
            return indexed.filter { !foldedIDs.contains($0.1.id) }
        }

        /// `indexed` and these rings together, each once.
        func merged(with indexed: [(AgentEndpoint, AgentRing)]) -> [(AgentEndpoint, AgentRing)] { unfolded(indexed) + rings }
    }

    /// The folded rings of `selection` that `query` names.
    func rings(_ selection: LogSelection, _ query: FoldedQuery) async -> Found {
        await ask(selection) { agent in try await client.foldedRings(agent, tool: selection.tool, query) }
    }

    /// A page of folded runs from each node: together they hold the page of the whole job.
    func runs(_ selection: LogSelection, _ query: FoldedQuery) async -> Found {
        await ask(selection) { agent in try await client.foldedRuns(agent, tool: selection.tool, query) }
    }

    private func ask(_ selection: LogSelection, _ call: @escaping @Sendable (AgentEndpoint) async throws -> FoldedAnswer) async -> Found {
        let holders = index.foldedHolders(tool: selection.tool) { selection.belongs(kind: $0.kind, name: $0.name) }.agents
        return await withTaskGroup(of: (AgentEndpoint, FoldedAnswer?).self) { group in
            for agent in holders {
                group.addTask { (agent, try? await call(agent)) }
            }
            var found = Found()
            for await (agent, answer) in group {
                guard let answer else {
                    found.failed.append(agent.node)
                    continue
                }
                found.rings += answer.rings.filter(selection.belongs).map { (agent, $0) }
                found.runs += answer.runs ?? 0
                if let oldest = answer.oldest { found.oldest = min(found.oldest ?? oldest, oldest) }
            }
            found.failed.sort()
            return found
        }
    }
}
