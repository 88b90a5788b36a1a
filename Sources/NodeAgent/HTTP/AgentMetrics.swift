import Metrics
import RingStore
import Synchronization

/// The agent's own figures in `/metrics`, taken when scraped. Labels stay bounded: per ring
/// state, never per tool or per ring.
final class AgentMetrics: Sendable {
    private let follows = Mutex(0)
    private let ingestedBytes = Gauge(label: "logs_agent_ingested_bytes")
    private let usedBytes = Gauge(label: "logs_agent_used_bytes")
    private let budgetBytes = Gauge(label: "logs_agent_budget_bytes")
    private let rolledBytes = Gauge(label: "logs_agent_rolled_bytes")
    private let droppedBytes = Gauge(label: "logs_agent_dropped_bytes")
    private let liveRings = Gauge(label: "logs_agent_rings", dimensions: [("state", "live")])
    private let finishedRings = Gauge(label: "logs_agent_rings", dimensions: [("state", "finished")])
    private let containers = Gauge(label: "logs_agent_containers")
    private let activeFollows = Gauge(label: "logs_agent_follows")
    private let diskFull = Gauge(label: "logs_agent_disk_full")

    func update(usage: UsageReport, ingest: IngestStats, health: AgentHealth) {
        ingestedBytes.record(Double(ingest.bytes))
        usedBytes.record(Double(usage.usedBytes))
        budgetBytes.record(Double(usage.budgetBytes ?? 0))
        rolledBytes.record(Double(usage.rolledBytes))
        droppedBytes.record(Double(usage.droppedBytes))
        liveRings.record(usage.liveRings)
        finishedRings.record(usage.finishedRings)
        containers.record(ingest.containers)
        activeFollows.record(follows.withLock { $0 })
        diskFull.record(health.diskFull ? 1 : 0)
    }

    func followStarted() { follows.withLock { $0 += 1 } }
    func followEnded() { follows.withLock { $0 -= 1 } }
}
