import AgentWire
import Foundation
import LogModel
import TestSupport
import Testing

/// A tool's reads that may scan, beyond its share, wait, then get 429 with when to come back;
/// its small reads and other tools' reads do not; a read whose client went away gives its place
/// back.
@Suite(.timeLimit(.minutes(3))) struct AgentFairReadsTests {
    static let lines = 50_000

    /// About 16 MB of log kept: far more than the socket buffers hold, so a stalled reader holds
    /// its read.
    private func bigRing(_ agent: AgentHarness) async throws -> AgentRing {
        let big = try agent.writer(pod: "download-x7k2p")
        let line = String(repeating: "x", count: 400)
        try big.writeRaw((0..<Self.lines).map { "\(NanoTime.format(NanoTime.now())) stdout F \($0) \(line)\n" }.joined())
        let ring = try await agent.ring(pod: "download-x7k2p")
        try await waitUntil("the whole log ingested") {
            try await agent.inventory().rings.first { $0.id == ring.id }?.recordsWritten == UInt64(Self.lines)
        }
        return ring
    }

    @Test func aToolsReadsBeyondItsShareAreRefusedAndOthersAreNot() async throws {
        let agent = try AgentHarness(["--reads-per-tool", "1", "--read-wait", "1s", "--rate-bytes", "64MiB", "--burst-bytes", "64MiB"])
        let small = try agent.writer(tool: "other", pod: "web-x7k2p")
        try small.write("hello")
        let ring = try await bigRing(agent)
        let path = AgentRoutes.ringLogs(ring.id)
        let text = agent.auth.merging(["Accept": "text/plain"]) { $1 }

        let stalled = try StalledClient(port: agent.process.port, path: path, headers: text)
        try await waitUntil("the stalled download holds the tool's place") {
            try await agent.get(AgentRoutes.stats).json(AgentStats.self).reads == [AgentStats.ToolReads(tool: "demo", running: 1, waiting: 0)]
        }
        // Its read holds the tool's one place: the next waits, then is refused.
        let refused = try await eventually("a search of the same tool refused") {
            let answer = try await agent.get(path + "?grep=nothing-matches")
            return answer.status == 429 ? answer : nil
        }
        // A small read (a page) does not wait for a place: it takes turns on the pool only.
        #expect(try await agent.messages(ring, "?lines=1").first?.hasPrefix("\(Self.lines - 1) ") == true)
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
        let after = try await eventually("a search of the tool let in again") {
            let answer = try await agent.get(path + "?grep=\(Self.lines - 1) x")
            return answer.status == 200 ? answer : nil
        }
        #expect(try after.agentItems().compactMap { try $0.decoded().message }.filter { $0.hasPrefix("\(Self.lines - 1) ") }.count == 1)
    }

    /// A read waiting its turn whose client hangs up (a FIN alone: nothing was written that
    /// could fail) leaves the queue at once, not when its wait runs out.
    @Test func aReadWaitingItsTurnLeavesWhenItsClientHangsUp() async throws {
        let agent = try AgentHarness(["--reads-per-tool", "1", "--read-wait", "10s", "--rate-bytes", "64MiB", "--burst-bytes", "64MiB"])
        let ring = try await bigRing(agent)
        let path = AgentRoutes.ringLogs(ring.id)
        let text = agent.auth.merging(["Accept": "text/plain"]) { $1 }
        func reads() async throws -> [AgentStats.ToolReads]? { try await agent.get(AgentRoutes.stats).json(AgentStats.self).reads }
        let holder = try StalledClient(port: agent.process.port, path: path, headers: text)
        defer { holder.close() }
        try await waitUntil("the stalled download holds the tool's place") { try await reads() == [.init(tool: "demo", running: 1, waiting: 0)] }
        let search = try StalledClient(port: agent.process.port, path: path + "?grep=nothing-matches", headers: text)
        defer { search.close() }
        try await waitUntil("the search waits its turn") { try await reads() == [.init(tool: "demo", running: 1, waiting: 1)] }
        search.halfClose()
        try await waitUntil("the search gone from the queue", timeout: .seconds(3)) { try await reads() == [.init(tool: "demo", running: 1, waiting: 0)] }
    }

    /// A text follow of a quiet ring writes nothing, not even a heartbeat: its client hanging
    /// up (a FIN alone) ends it all the same.
    @Test func aTextFollowOfAQuietRingEndsWhenItsClientHangsUp() async throws {
        let agent = try AgentHarness([])
        let log = try agent.writer(pod: "quiet-x7k2p")
        try log.write("one line, then nothing")
        let ring = try await agent.ring(pod: "quiet-x7k2p")
        let follower = try StalledClient(port: agent.process.port, path: AgentRoutes.ringLogs(ring.id) + "?follow=true",
                                         headers: agent.auth.merging(["Accept": "text/plain"]) { $1 })
        defer { follower.close() }
        try await waitUntil("the follow open") { try await agent.openFollows() == 1 }
        follower.halfClose()
        try await waitUntil("the follow ended", timeout: .seconds(3)) { try await agent.openFollows() == 0 }
    }
}
