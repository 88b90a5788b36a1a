import AgentWire
import Metrics

/// The gateway's own figures in `/v1/metrics`, beside Hummingbird's requests by route and
/// status and their latency. Taken when scraped; labels stay bounded (never per tool or ring).
struct GatewayMetrics: Sendable {
    private let follows = Gauge(label: "logs_gateway_follows")
    private let pulls = Gauge(label: "logs_gateway_upstream_pulls")
    private let indexRings = Gauge(label: "logs_gateway_index_rings")
    /// (node, job) pairs with folded runs: what stands in the index for every folded run.
    private let indexFoldedJobs = Gauge(label: "logs_gateway_index_folded_jobs")
    private let reachableAgents = Gauge(label: "logs_gateway_agents", dimensions: [("state", "reachable")])
    private let unreachableAgents = Gauge(label: "logs_gateway_agents", dimensions: [("state", "unreachable")])

    // Calls to agents that failed, and how long calls take, are `AgentClient`'s.

    func update(follows: Int, pulls: Int, index: AgentIndex.Size) {
        self.follows.record(follows)
        self.pulls.record(pulls)
        indexRings.record(index.rings)
        indexFoldedJobs.record(index.foldedJobs)
        reachableAgents.record(index.reachable)
        unreachableAgents.record(index.unreachable)
    }
}
