import AgentWire
import FairShare
import Foundation
import LogModel

/// Reads several rings through their agents and merges them by time, a page at a time or live
/// (`FollowSession`). Each item handed out carries a cursor (`CompositeCursor`) from which a
/// client that resumes gets every line exactly once.
struct MergedLogs: Sendable {
    let client: AgentClient
    let shared: SharedFollows
    let heartbeat: Duration
    /// Where pages are merged and encoded, in turns by tool: the cooperative pool stays free
    /// to move bytes (docs/architecture.md, "Threads").
    let pool: FairPool
    static let pageItems = 5000

    /// One page of a merged read: at most `limit` items from the request's cursor, or from the
    /// start of its window (its end, newest first), merged as `PageMerge` says, then handed to
    /// `finish` (an encoding) in the same slice of the merge pool. Each ring is asked for one
    /// item more than the page holds, so that the page knows whether more follow; the agents
    /// seek to the position, so page k costs what page 1 does. Only the rings that can hold the
    /// page are asked (`LogRequest.choice`: its window, and for a count of lines the few at its
    /// starting end); every ring of `selected` gets a position.
    func page<T: Sendable>(_ selected: [(AgentEndpoint, AgentRing)], _ request: LogRequest, limit: Int, forwardMarks: Bool? = nil,
                           of selection: LogSelection, then finish: @escaping @Sendable (MergedPage) -> T) async -> T {
        let rings = request.choice(filtered: selection.filtersEntries).choose(selected) { $0.1 }
        let fetched = await fetch(rings, request, count: limit + 1)
        let merge = PageMerge(rings: rings.map(\.1), items: fetched.map(\.page.items), ends: fetched.map(\.page.end), request: request,
                              selection: selection)
        let all = selected.map(\.1)
        let warnings = fetched.compactMap(\.warning)
        return await pool.run(selection.tool) {
            finish(merge.page(limit: limit, forwardMarks: forwardMarks, selected: all, warnings: warnings))
        }
    }

    func page(_ selected: [(AgentEndpoint, AgentRing)], _ request: LogRequest, limit: Int, forwardMarks: Bool? = nil,
              of selection: LogSelection) async -> MergedPage {
        await page(selected, request, limit: limit, forwardMarks: forwardMarks, of: selection) { $0 }
    }

    /// Each ring's first `count` items of the request (one ring asked in this task, several at once).
    private func fetch(_ rings: [(AgentEndpoint, AgentRing)], _ request: LogRequest, count: Int) async -> [(page: AgentClient.Page, warning: String?)] {
        @Sendable func one(_ agent: AgentEndpoint, _ ring: AgentRing) async -> (page: AgentClient.Page, warning: String?) {
            do {
                let query = request.ringQuery(from: request.after?.position(of: ring.id), count: count)
                return (try await client.page(agent, ring: ring.id, query), nil)
            } catch {
                return (AgentClient.Page(items: [], end: nil), "\(error)")
            }
        }
        if rings.count == 1 { return [await one(rings[0].0, rings[0].1)] }
        return await withTaskGroup(of: (Int, (page: AgentClient.Page, warning: String?)).self) { group in
            for (index, (agent, ring)) in rings.enumerated() {
                group.addTask { (index, await one(agent, ring)) }
            }
            var all = [(page: AgentClient.Page, warning: String?)](repeating: (AgentClient.Page(items: [], end: nil), nil), count: rings.count)
            for await (index, result) in group { all[index] = result }
            return all
        }
    }

    /// Follows rings live after a first page (`FollowSession`).
    func follow(_ rings: [(AgentEndpoint, AgentRing)], from start: CompositeCursor, _ request: LogRequest, endsWhenFinished: Bool,
                more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) -> FollowSession {
        FollowSession(rings, from: start, request, endsWhenFinished: endsWhenFinished, heartbeat: heartbeat, client: client, shared: shared,
                      more: more)
    }
}
