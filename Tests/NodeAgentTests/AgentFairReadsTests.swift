import AgentWire
import Foundation
import LogModel
import TestSupport
import Testing

/// A tool's reads beyond its share wait, then get 429 with when to come back; other tools'
/// reads do not; a read whose client went away gives its place back.
@Suite(.timeLimit(.minutes(3))) struct AgentFairReadsTests {
    @Test func aToolsReadsBeyondItsShareAreRefusedAndOthersAreNot() async throws {
        let agent = try AgentHarness(["--reads-per-tool", "1", "--read-wait", "1s", "--rate-bytes", "64MiB", "--burst-bytes", "64MiB"])
        // About 8 MB of log: more than the socket buffers hold, so a stalled reader holds its read.
        let big = try agent.writer(pod: "download-x7k2p")
        let line = String(repeating: "x", count: 400)
        try big.writeRaw((0..<20_000).map { "\(NanoTime.format(NanoTime.now())) stdout F \($0) \(line)\n" }.joined())
        let small = try agent.writer(tool: "other", pod: "web-x7k2p")
        try small.write("hello")
        let ring = try await agent.ring(pod: "download-x7k2p")
        try await waitUntil("the whole log ingested") {
            try await agent.inventory().rings.first { $0.id == ring.id }?.recordsWritten == 20_000
        }
        let path = AgentRoutes.ringLogs(ring.id)
        let text = agent.auth.merging(["Accept": "text/plain"]) { $1 }

        let stalled = try StalledClient(port: agent.process.port, path: path, headers: text)
        // Its read holds the tool's one place: the next waits, then is refused.
        let refused = try await eventually("a read of the same tool refused") {
            let answer = try await agent.get(path + "?lines=1")
            return answer.status == 429 ? answer : nil
        }
        #expect(refused.headers.first { $0.0.lowercased() == "retry-after" }?.1 == "1")
        #expect(refused.errors == ["tool demo has 1 reads running on this node: try again in 1 s"])
        // Operators see who holds the node's reads, and the refusals.
        let stats = try await agent.get(AgentRoutes.stats).json(AgentStats.self)
        #expect(stats.reads == [AgentStats.ToolReads(tool: "demo", running: 1, waiting: 0)])
        #expect((stats.readsRefused ?? 0) >= 1)
        let metrics = try await agent.get("/metrics", headers: [:]).text
        #expect(metrics.contains("logs_agent_tool_reads{tool=\"demo\",state=\"running\"} 1"), "\(metrics)")
        #expect(metric("logs_agent_reads_refused", in: metrics).map { $0 >= 1 } == true)
        // Another tool's read is not behind it.
        let other = try await agent.ring(pod: "web-x7k2p")
        #expect(try await agent.messages(other) == ["hello"])

        // The stalled client goes away: its read ends, and its place comes back.
        stalled.close()
        let after = try await eventually("a read of the tool let in again") {
            let answer = try await agent.get(path + "?lines=1")
            return answer.status == 200 ? answer : nil
        }
        #expect(after.text.contains("19999 "))
    }
}
