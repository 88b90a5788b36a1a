import AgentWire
import Foundation
import LogModel
import TestSupport

/// A real `logs-agent` process over a temporary pods directory, as the integration tests use it.
final class AgentHarness: @unchecked Sendable {
    let scratch = Scratch("agent-test")
    let token = "test-token-\(UUID().uuidString)"
    var process: ServiceProcess!
    let extraArguments: [String]
    /// A command the agent runs under (`prlimit …`), its arguments ending before the agent's path.
    let launcher: [String]

    var pods: String { scratch.file("pods") }
    var data: String { scratch.file("data") }
    var podsJSON: String { scratch.file("pods.json") }
    var base: String { "http://127.0.0.1:\(process.port)" }
    var auth: [String: String] { ["Authorization": "Bearer \(token)"] }

    init(_ arguments: [String] = [], launcher: [String] = []) throws {
        extraArguments = arguments
        self.launcher = launcher
        try FileManager.default.createDirectory(atPath: pods, withIntermediateDirectories: true)
        try token.replace(file: scratch.file("token"))
        try start()
    }

    func start() throws {
        let agent = launcher + [ServiceProcess.product("logs-agent")]
        process = ServiceProcess(
            executable: agent[0],
            arguments: agent.dropFirst() + ["--node", "node-1", "--pods-dir", pods, "--data-dir", data, "--listen", "127.0.0.1:0",
                        "--token-file", scratch.file("token"), "--pods-json", podsJSON, "--rescan", "1s", "--heartbeat", "1s"]
                + extraArguments,
            logPath: scratch.file("agent.log"))
        try process.start()
    }

    func restart(signal: Int32 = SIGKILL) throws {
        process.kill(signal)
        try start()
    }

    func writer(tool: String = "demo", pod: String, container: String = "job") throws -> PodLogWriter {
        try PodLogWriter(podsDirectory: pods, namespace: "tool-\(tool)", pod: pod, container: container)
    }

    func get(_ path: String, headers: [String: String]? = nil) async throws -> TestHTTPResponse {
        try await TestHTTP.request(base + path, headers: headers ?? auth)
    }

    func inventory(_ query: String = "") async throws -> AgentInventory {
        try await get(AgentRoutes.rings + query).json(AgentInventory.self)
    }

    /// The log items of the ring of a pod's container, once it exists.
    func ring(pod: String, segment: Int = 0) async throws -> AgentRing {
        try await eventually("a ring for \(pod)") {
            try await self.inventory().rings.first { $0.pod == pod && $0.segment == segment }
        }
    }

    /// The follows the agent serves now.
    func openFollows() async throws -> Double? {
        metric("logs_agent_follows", in: try await get("/metrics").text)
    }

    /// A read as the agent answers it: each item, its positions and its time (heartbeats, which
    /// a long read writes to notice a client gone, left out).
    func read(_ ring: AgentRing, _ query: String = "") async throws -> [AgentItem] {
        try await get(AgentRoutes.ringLogs(ring.id) + query).ok().agentItems().filter { $0.type != .heartbeat }
    }

    /// The log items of a read, as the gateway hands them on.
    func items(_ ring: AgentRing, _ query: String = "") async throws -> [LogItem] {
        try await read(ring, query).map { try $0.decoded() }
    }

    func messages(_ ring: AgentRing, _ query: String = "") async throws -> [String] {
        try await items(ring, query).filter { $0.type == .log }.compactMap(\.message)
    }
}
