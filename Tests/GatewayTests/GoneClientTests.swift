import AgentWire
import Foundation
import LogModel
import Testing
import TestSupport

/// A client that hangs up stops costing (issue 21): its read through the gateway ends, and with
/// it the gateway's calls to the agent, even when nothing was ever written to it (a search that
/// matches nothing, or one waiting its turn at the agent), which is when no write fails.
@Suite(.timeLimit(.minutes(3))) struct GoneClientTests {
    /// A gateway in front of an agent where tool demo may run one read that scans at a time, and
    /// a stalled download of its ring `big` at the agent holding that place.
    static func withHeldPlace(_ body: (GatewayHarness, _ stats: () async throws -> AgentStats) async throws -> Void) async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], agentArguments: ["--reads-per-tool", "1", "--read-wait", "1s",
                                                                         "--rate-bytes", "64MiB", "--burst-bytes", "64MiB"])
        let log = try gw.writer(node: "node-1", pod: "big")
        let line = String(repeating: "x", count: 400)
        let lines = 40_000
        try log.writeRaw((0..<lines).map { "\(NanoTime.format(NanoTime.now())) stdout F \($0) \(line)\n" }.joined())
        _ = try await eventually("every line ingested", timeout: .seconds(60)) {
            let newest = try await gw.logsWhenThere("/v1/tool/demo/job/big/logs?lines=1&direction=newest_first")?.items.first?.message
            return newest?.hasPrefix("\(lines - 1) ") == true ? true : nil
        }
        let agentPort = try #require(gw.agents["node-1"]).port
        let auth = ["Authorization": "Bearer \(gw.token)"]
        func stats() async throws -> AgentStats {
            try await TestHTTP.request("http://127.0.0.1:\(agentPort)" + AgentRoutes.stats, headers: auth).json(AgentStats.self)
        }
        let inventory = try await TestHTTP.request("http://127.0.0.1:\(agentPort)" + AgentRoutes.rings, headers: auth).json(AgentInventory.self)
        let ring = try #require(inventory.rings.first { $0.pod == "big" })
        let holder = try StalledClient(port: agentPort, path: AgentRoutes.ringLogs(ring.id), headers: auth.merging(["Accept": "text/plain"]) { $1 })
        defer { holder.close() }
        try await waitUntil("the stalled download holds the tool's place") {
            try await stats().reads == [AgentStats.ToolReads(tool: "demo", running: 1, waiting: 0)]
        }
        try await body(gw, stats)
    }

    /// A search (merged pages, NDJSON) and a download of one ring (its text passed through,
    /// whose answer the gateway awaits before it answers).
    @Test(arguments: [("?grep=nothing-matches-this", "application/x-ndjson"), ("?since=1d", "text/plain")])
    func aReadWhoseClientHungUpStopsAskingTheAgent(query: String, accept: String) async throws {
        // The gateway's read waits its turn, is refused (429), and tries again after the
        // Retry-After, up to five times: ten seconds of work for a client that is gone.
        try await Self.withHeldPlace { gw, stats in
            let refusedBefore = try await stats().readsRefused ?? 0
            let search = try StalledClient(port: gw.gateway.port, path: "/v1/tool/demo/job/big/logs" + query,
                                           headers: GatewayHarness.tool("demo").merging(["Accept": accept]) { $1 })
            defer { search.close() }
            try await waitUntil("the gateway's search refused by the agent") { try await stats().readsRefused ?? 0 > refusedBefore }
            // It hangs up with a FIN alone, which Hummingbird would take for a half-closed
            // connection that still reads: the gateway stops trying all the same.
            search.halfClose()
            try await Task.sleep(for: .milliseconds(1500))  // a try under way when it hung up may still end in a refusal
            let refusedAfter = try await stats().readsRefused ?? 0
            try await Task.sleep(for: .seconds(3))  // absence: tried every 2 s, it would have been refused again
            #expect(try await stats().readsRefused ?? 0 == refusedAfter, "the gateway went on asking for a client that hung up")
            #expect(try await stats().reads == [AgentStats.ToolReads(tool: "demo", running: 1, waiting: 0)])
        }
    }

    /// A download of one ring passes the agent's bytes through: when the agent still refuses it
    /// after the gateway's tries, the client gets the 429 with its Retry-After and message, not
    /// a body cut short after a 200.
    @Test func aDownloadTheAgentKeepsRefusingIsA429() async throws {
        try await Self.withHeldPlace { gw, _ in
            let answer = try await gw.get("/v1/tool/demo/job/big/logs?since=1d", as: GatewayHarness.tool("demo"), accept: "text/plain")
            #expect(answer.status == 429)
            #expect(answer.headers.first { $0.0.lowercased() == "retry-after" }?.1 == "1")
            #expect(answer.errors.first?.contains("tool demo has 1 reads running on this node") == true, "\(answer.text)")
        }
    }
}
