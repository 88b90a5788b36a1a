import AgentWire
import Foundation
import LogModel
import Logging
import ServiceLifecycle
import Synchronization

/// Which agent holds which ring: an in-memory index fed by the agents' inventories, kept fresh
/// with `since_version` deltas (a new agent instance means a full reload). A restarted gateway
/// rebuilds it from the agents; nothing of it is persisted. Runs folded into history files are
/// not indexed one by one, only which jobs have them on which node: a job that ran every minute
/// for 14 days is 20,160 runs, and the fleet's finished runs would not fit in a gateway.
final class AgentIndex: Service, Sendable {
    struct AgentState {
        var endpoint: AgentEndpoint
        var instance: String?
        var version: UInt64 = 0
        var rings = RingsByTool()
        /// The jobs that have runs folded on this node: asked for only when a request needs them.
        var foldedJobs: Set<FoldedJob> = []
        var reachable = false
        var lastError: String?
    }

    let discovery: AgentDiscovery
    let client: AgentClient
    let interval: Duration
    let logger: Logger
    /// By node. A node once seen stays, reachable or not, so that its absence is said.
    private let state: Mutex<[String: AgentState]>

    init(discovery: AgentDiscovery, client: AgentClient, interval: Duration = .seconds(2), logger: Logger) {
        self.discovery = discovery
        self.client = client
        self.interval = interval
        self.logger = logger
        var known: [String: AgentState] = [:]
        if case let .fixed(agents) = discovery {
            for agent in agents { known[agent.node] = AgentState(endpoint: agent) }
        }
        state = Mutex(known)
    }

    /// The agents known now, by node name.
    var agents: [AgentEndpoint] { state.withLock { $0.values.map(\.endpoint) }.sorted { $0.node < $1.node } }

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await refresh()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Asks every agent what changed, concurrently; and every address DNS gives that is not a
    /// known agent's, which node it is.
    func refresh() async {
        var targets = agents
        let known = Set(targets.map(\.url))
        targets += await discovery.addresses().filter { !known.contains($0) }.map { AgentEndpoint(node: "", url: $0) }
        await withTaskGroup(of: Void.self) { group in
            for agent in targets { group.addTask { await self.refresh(agent) } }
        }
    }

    /// `agent.node` is empty for an address not yet known.
    private func refresh(_ agent: AgentEndpoint) async {
        let known = state.withLock { $0[agent.node].map { ($0.instance, $0.version) } }
        do {
            let inventory = try await client.inventory(agent, since: known?.0 == nil ? nil : known?.1)
            if !agent.node.isEmpty, inventory.node != agent.node {
                throw AgentCallError(node: agent.node, status: 200, message: "\(agent.url) answers as node \(inventory.node)")
            }
            state.withLock { all in
                // A node seen at a new address (its pod restarted) moves there.
                var current = all[inventory.node] ?? AgentState(endpoint: AgentEndpoint(node: inventory.node, url: agent.url))
                current.endpoint.url = agent.url
                if inventory.full || inventory.instance != current.instance {
                    current.rings = RingsByTool()
                    current.foldedJobs = []
                }
                if let jobs = inventory.foldedJobs { current.foldedJobs = Set(jobs) }
                for ring in inventory.rings { current.rings.insert(ring) }
                for id in inventory.removed { current.rings.remove(id: id) }
                current.instance = inventory.instance
                current.version = inventory.version
                current.reachable = true
                current.lastError = nil
                all[inventory.node] = current
            }
        } catch {
            guard !agent.node.isEmpty else { return }
            state.withLock {
                $0[agent.node]?.reachable = false
                $0[agent.node]?.lastError = "\(error)"
            }
        }
    }

    /// Rings of a tool that `matches` accepts, each with its agent, and the nodes that could
    /// not be asked (their rings may be missing from the answer).
    /// The tool's rings that `matches`, by start and id unless `sorted` is false (a caller that
    /// orders them itself spares a sort of every run a job keeps).
    func rings(tool: String, where matches: (AgentRing) -> Bool = { _ in true },
               sorted: Bool = true) -> (rings: [(AgentEndpoint, AgentRing)], unreachable: [String]) {
        state.withLock { all in
            var found: [(AgentEndpoint, AgentRing)] = []
            var unreachable: [String] = []
            for agentState in all.values {
                if !agentState.reachable { unreachable.append(agentState.endpoint.node) }
                for ring in agentState.rings.rings(of: tool) where matches(ring) {
                    found.append((agentState.endpoint, ring))
                }
            }
            guard sorted else { return (found, unreachable.sorted()) }
            return (found.sorted { ($0.1.startedAt ?? "", $0.1.id) < ($1.1.startedAt ?? "", $1.1.id) }, unreachable.sorted())
        }
    }

    /// The reachable nodes that have folded runs of `tool` that `matches`, and the names of
    /// those jobs (for a typo's hint).
    func foldedHolders(tool: String, where matches: (FoldedJob) -> Bool) -> (agents: [AgentEndpoint], names: Set<String>) {
        state.withLock { all in
            var agents: [AgentEndpoint] = []
            var names = Set<String>()
            for agentState in all.values where agentState.reachable {
                let jobs = agentState.foldedJobs.filter { $0.tool == tool && matches($0) }
                if !jobs.isEmpty { agents.append(agentState.endpoint) }
                names.formUnion(jobs.map(\.name))
            }
            return (agents.sorted { $0.node < $1.node }, names)
        }
    }

    /// The tool's jobs with folded runs, by node, reachable or not: what `/inventory` lists
    /// instead of their runs.
    func foldedJobs(tool: String) -> [(node: String, job: FoldedJob, reachable: Bool)] {
        state.withLock { all in
            all.values.flatMap { agentState in
                agentState.foldedJobs.filter { $0.tool == tool }.map { (agentState.endpoint.node, $0, agentState.reachable) }
            }
        }.sorted { ($0.job.name, $0.job.kind.rawValue, $0.node) < ($1.job.name, $1.job.kind.rawValue, $1.node) }
    }

    struct Size {
        var rings = 0
        var foldedJobs = 0
        var reachable = 0
        var unreachable = 0
    }

    var size: Size {
        state.withLock { all in
            all.values.reduce(into: Size()) { size, agent in
                size.rings += agent.rings.count
                size.foldedJobs += agent.foldedJobs.count
                if agent.reachable { size.reachable += 1 } else { size.unreachable += 1 }
            }
        }
    }

    func isReachable(_ node: String) -> Bool { state.withLock { $0[node]?.reachable ?? false } }

    func endpoint(node: String) -> AgentEndpoint? { state.withLock { $0[node]?.endpoint } }
}
