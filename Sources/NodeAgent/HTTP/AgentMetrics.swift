import Metrics
import RingStore
import Synchronization

/// The agent's own figures in `/metrics`, taken when scraped. Labels stay bounded: per ring
/// state, and per tool only for the bytes it holds before and after compression (tools with
/// rings on this node: a node holds hundreds, not the platform's thousands; a tool's series go
/// when its last ring does). Never per ring.
final class AgentMetrics: Sendable {
    private let follows = Mutex(0)
    private let ingestedBytes = Gauge(label: "logs_agent_ingested_bytes")
    private let usedBytes = Gauge(label: "logs_agent_used_bytes")
    private let keptBytes = Gauge(label: "logs_agent_kept_bytes")
    /// Per tool: (kept, before compression; stored, on disk).
    private let toolBytes = Mutex<[String: (kept: Gauge, stored: Gauge)]>([:])
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
        keptBytes.record(Double(usage.keptBytes))
        recordPerTool(usage.tools)
        budgetBytes.record(Double(usage.budgetBytes ?? 0))
        rolledBytes.record(Double(usage.rolledBytes))
        droppedBytes.record(Double(usage.droppedBytes))
        liveRings.record(usage.liveRings)
        finishedRings.record(usage.finishedRings)
        containers.record(ingest.containers)
        activeFollows.record(follows.withLock { $0 })
        diskFull.record(health.diskFull ? 1 : 0)
    }

    private func recordPerTool(_ tools: [UsageReport.ToolUsage]) {
        toolBytes.withLock { gauges in
            let present = Set(tools.map(\.tool))
            for (tool, gone) in gauges where !present.contains(tool) {
                gone.kept.destroy()
                gone.stored.destroy()
                gauges[tool] = nil
            }
            for tool in tools {
                let pair = gauges[tool.tool] ?? (Gauge(label: "logs_agent_tool_kept_bytes", dimensions: [("tool", tool.tool)]),
                                                 Gauge(label: "logs_agent_tool_stored_bytes", dimensions: [("tool", tool.tool)]))
                gauges[tool.tool] = pair
                pair.kept.record(Double(tool.keptBytes))
                pair.stored.record(Double(tool.bytes))
            }
        }
    }

    func followStarted() { follows.withLock { $0 += 1 } }
    func followEnded() { follows.withLock { $0 -= 1 } }
}
