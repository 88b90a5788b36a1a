import FairShare
import Metrics
import RingStore
import Synchronization

/// The agent's own figures in `/metrics`, taken when scraped. Labels stay bounded: per ring
/// state, per retention rule, and per tool only for the bytes it holds before and after
/// compression and its runs (tools with rings on this node: a node holds hundreds, not the
/// platform's thousands; a tool's series go when its last ring does). Never per ring.
final class AgentMetrics: Sendable {
    private let follows = Mutex(0)
    /// What retention evicted since the agent started, by rule: runs, and their bytes on disk.
    private let evictions = Mutex<[Eviction.Reason: (runs: Int, bytes: UInt64)]>([:])
    private let evictedRuns = Dictionary(uniqueKeysWithValues: Eviction.Reason.allCases.map {
        ($0, Counter(label: "logs_agent_evicted_runs", dimensions: [("reason", $0.rawValue)]))
    })
    private let evictedBytes = Dictionary(uniqueKeysWithValues: Eviction.Reason.allCases.map {
        ($0, Counter(label: "logs_agent_evicted_bytes", dimensions: [("reason", $0.rawValue)]))
    })
    private let ingestedBytes = Gauge(label: "logs_agent_ingested_bytes")
    private let usedBytes = Gauge(label: "logs_agent_used_bytes")
    private let keptBytes = Gauge(label: "logs_agent_kept_bytes")
    /// Per tool: (kept, before compression; stored, on disk; finished runs kept).
    private let toolGauges = Mutex<[String: (kept: Gauge, stored: Gauge, runs: Gauge)]>([:])
    private let budgetBytes = Gauge(label: "logs_agent_budget_bytes")
    private let rolledBytes = Gauge(label: "logs_agent_rolled_bytes")
    private let droppedBytes = Gauge(label: "logs_agent_dropped_bytes")
    private let liveRings = Gauge(label: "logs_agent_rings", dimensions: [("state", "live")])
    private let finishedRings = Gauge(label: "logs_agent_rings", dimensions: [("state", "finished")])
    /// Finished rings folded into history files: a part of the finished ones.
    private let foldedRings = Gauge(label: "logs_agent_folded_rings")
    private let containers = Gauge(label: "logs_agent_containers")
    private let activeFollows = Gauge(label: "logs_agent_follows")
    private let diskFull = Gauge(label: "logs_agent_disk_full")
    /// Reads that may scan, running and waiting for a place, in all and per tool (only tools with
    /// either at the scrape: a few), and reads refused with 429.
    private let readsRunning = Gauge(label: "logs_agent_reads", dimensions: [("state", "running")])
    private let readsWaiting = Gauge(label: "logs_agent_reads", dimensions: [("state", "waiting")])
    private let toolReads = Mutex<[String: (running: Gauge, waiting: Gauge)]>([:])
    private let refused = Atomic<UInt64>(0)
    private let refusedCounter = Counter(label: "logs_agent_reads_refused")

    func update(usage: UsageReport, ingest: IngestStats, health: AgentHealth, reads: [String: (running: Int, waiting: Int)]) {
        recordReads(reads)
        ingestedBytes.record(Double(ingest.bytes))
        usedBytes.record(Double(usage.usedBytes))
        keptBytes.record(Double(usage.keptBytes))
        recordPerTool(usage.tools)
        budgetBytes.record(Double(usage.budgetBytes ?? 0))
        rolledBytes.record(Double(usage.rolledBytes))
        droppedBytes.record(Double(usage.droppedBytes))
        liveRings.record(usage.liveRings)
        finishedRings.record(usage.finishedRings)
        foldedRings.record(usage.foldedRings)
        containers.record(ingest.containers)
        activeFollows.record(follows.withLock { $0 })
        diskFull.record(health.diskFull ? 1 : 0)
    }

    private func recordPerTool(_ tools: [UsageReport.ToolUsage]) {
        toolGauges.withLock { gauges in
            let present = Set(tools.map(\.tool))
            for (tool, gone) in gauges where !present.contains(tool) {
                gone.kept.destroy()
                gone.stored.destroy()
                gone.runs.destroy()
                gauges[tool] = nil
            }
            for tool in tools {
                let dimensions = [("tool", tool.tool)]
                let set = gauges[tool.tool] ?? (Gauge(label: "logs_agent_tool_kept_bytes", dimensions: dimensions),
                                                Gauge(label: "logs_agent_tool_stored_bytes", dimensions: dimensions),
                                                Gauge(label: "logs_agent_tool_runs", dimensions: dimensions))
                gauges[tool.tool] = set
                set.kept.record(Double(tool.keptBytes))
                set.stored.record(Double(tool.bytes))
                set.runs.record(tool.runs)
            }
        }
    }

    private func recordReads(_ reads: [String: (running: Int, waiting: Int)]) {
        readsRunning.record(reads.values.reduce(0) { $0 + $1.running })
        readsWaiting.record(reads.values.reduce(0) { $0 + $1.waiting })
        toolReads.withLock { gauges in
            for (tool, gone) in gauges where reads[tool] == nil {
                gone.running.destroy()
                gone.waiting.destroy()
                gauges[tool] = nil
            }
            for (tool, load) in reads {
                let set = gauges[tool] ?? (Gauge(label: "logs_agent_tool_reads", dimensions: [("tool", tool), ("state", "running")]),
                                           Gauge(label: "logs_agent_tool_reads", dimensions: [("tool", tool), ("state", "waiting")]))
                gauges[tool] = set
                set.running.record(load.running)
                set.waiting.record(load.waiting)
            }
        }
    }

    /// A read refused with 429.
    func readRefused() {
        refused.add(1, ordering: .relaxed)
        refusedCounter.increment()
    }

    var readsRefusedSoFar: UInt64 { refused.load(ordering: .relaxed) }

    func evicted(_ eviction: Eviction) {
        evictions.withLock { counts in
            let count = counts[eviction.reason] ?? (0, 0)
            counts[eviction.reason] = (count.runs + 1, count.bytes + eviction.bytes)
        }
        evictedRuns[eviction.reason]?.increment()
        evictedBytes[eviction.reason]?.increment(by: Int64(clamping: eviction.bytes))
    }

    /// Runs and bytes evicted since the agent started, by rule.
    var evictedSoFar: [Eviction.Reason: (runs: Int, bytes: UInt64)] { evictions.withLock { $0 } }

    func followStarted() { follows.withLock { $0 += 1 } }
    func followEnded() { follows.withLock { $0 -= 1 } }
}
