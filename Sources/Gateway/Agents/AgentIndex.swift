import Foundation
import LogModel
import Logging
import ServiceLifecycle
import Synchronization

/// Which agent holds which ring: an in-memory index fed by the agents' inventories, kept fresh
/// with `since_version` deltas (a new agent instance means a full reload). A restarted gateway
/// rebuilds it from the agents; nothing of it is persisted.
final class AgentIndex: Service, Sendable {
    struct AgentState {
        var instance: String?
        var version: UInt64 = 0
        var rings: [String: AgentRing] = [:]
        var reachable = false
        var lastError: String?
    }

    let agents: [AgentEndpoint]
    let client: AgentClient
    let interval: Duration
    let logger: Logger
    private let state: Mutex<[String: AgentState]>

    init(agents: [AgentEndpoint], client: AgentClient, interval: Duration = .seconds(2), logger: Logger) {
        self.agents = agents
        self.client = client
        self.interval = interval
        self.logger = logger
        state = Mutex(Dictionary(agents.map { ($0.node, AgentState()) }, uniquingKeysWith: { $1 }))
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await refresh()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Asks every agent what changed, concurrently.
    func refresh() async {
        await withTaskGroup(of: Void.self) { group in
            for agent in agents { group.addTask { await self.refresh(agent) } }
        }
    }

    private func refresh(_ agent: AgentEndpoint) async {
        let known = state.withLock { ($0[agent.node]?.instance, $0[agent.node]?.version ?? 0) }
        do {
            let inventory = try await client.inventory(agent, since: known.0 == nil ? nil : known.1)
            state.withLock { all in
                var current = all[agent.node] ?? AgentState()
                if inventory.full || inventory.instance != current.instance {
                    current.rings = [:]
                }
                for ring in inventory.rings { current.rings[ring.id] = ring }
                for id in inventory.removed { current.rings[id] = nil }
                current.instance = inventory.instance
                current.version = inventory.version
                current.reachable = true
                current.lastError = nil
                all[agent.node] = current
            }
        } catch {
            state.withLock {
                $0[agent.node]?.reachable = false
                $0[agent.node]?.lastError = "\(error)"
            }
        }
    }

    /// Rings of a tool that `matches` accepts, each with its agent, and the nodes that could
    /// not be asked (their rings may be missing from the answer).
    func rings(tool: String, where matches: (AgentRing) -> Bool = { _ in true }) -> (rings: [(AgentEndpoint, AgentRing)], unreachable: [String]) {
        state.withLock { all in
            var found: [(AgentEndpoint, AgentRing)] = []
            var unreachable: [String] = []
            for agent in agents {
                guard let agentState = all[agent.node] else { continue }
                if !agentState.reachable { unreachable.append(agent.node) }
                found += agentState.rings.values.filter { $0.tool == tool && matches($0) }.map { (agent, $0) }
            }
            return (found.sorted { ($0.1.startedAt ?? "", $0.1.id) < ($1.1.startedAt ?? "", $1.1.id) }, unreachable)
        }
    }

    func isReachable(_ node: String) -> Bool { state.withLock { $0[node]?.reachable ?? false } }

    func endpoint(node: String) -> AgentEndpoint? { agents.first { $0.node == node } }

}
