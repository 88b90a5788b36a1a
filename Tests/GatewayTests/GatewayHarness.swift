import Foundation
import LogModel
import TestSupport

/// Real agents (one process per node, each over its own pods directory) and a real gateway in
/// front of them, behind a "front proxy" on 127.0.0.1 (the test, sending identity headers).
final class GatewayHarness: @unchecked Sendable {
    let scratch = Scratch("gateway-test")
    let token = "agent-token-\(UUID().uuidString)"
    var agents: [String: ServiceProcess] = [:]
    var gateway: ServiceProcess!
    let nodes: [String]
    let gatewayArguments: [String]

    init(nodes: [String] = ["node-1", "node-2", "node-3"], gatewayArguments: [String] = []) throws {
        self.nodes = nodes
        self.gatewayArguments = gatewayArguments
        try token.write(toFile: scratch.file("token"), atomically: true, encoding: .utf8)
        try "demo: [alice]\nother: [bob]\n".write(toFile: scratch.file("members.yaml"), atomically: true, encoding: .utf8)
        for node in nodes { try startAgent(node) }
        try startGateway()
    }

    func pods(_ node: String) -> String { scratch.file("pods-\(node)") }

    func startAgent(_ node: String) throws {
        try FileManager.default.createDirectory(atPath: pods(node), withIntermediateDirectories: true)
        let port = agents[node]?.port ?? 0
        let agent = ServiceProcess(
            executable: ServiceProcess.product("logs-agent"),
            arguments: ["--node", node, "--pods-dir", pods(node), "--data-dir", scratch.file("data-\(node)"),
                        "--listen", "127.0.0.1:\(port)", "--token-file", scratch.file("token"), "--rescan", "1s", "--heartbeat", "1s",
                        "--pods-json", scratch.file("pods-\(node).json")],
            logPath: scratch.file("agent-\(node).log"))
        try agent.start()
        agents[node] = agent
    }

    func startGateway() throws {
        let port = gateway?.port ?? 0
        let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.yaml").path
        gateway = ServiceProcess(
            executable: ServiceProcess.product("logs-gateway"),
            arguments: ["--listen", "127.0.0.1:\(port)", "--agent-token-file", scratch.file("token"),
                        "--trusted-proxy", "127.0.0.1/32", "--members-file", scratch.file("members.yaml"),
                        "--admin", "ops", "--service", "jobs-api=^/v1/tool/[^/]+/source/jobs-api/log$",
                        "--heartbeat", "1s", "--spec", specPath]
                + nodes.flatMap { ["--agent", "\($0)=http://127.0.0.1:\(agents[$0]!.port)"] } + gatewayArguments,
            logPath: scratch.file("gateway.log"))
        try gateway.start()
    }

    var base: String { "http://127.0.0.1:\(gateway.port)" }

    func writer(node: String, tool: String = "demo", pod: String, container: String = "job") throws -> PodLogWriter {
        try PodLogWriter(podsDirectory: pods(node), namespace: "tool-\(tool)", pod: pod, container: container)
    }

    static func tool(_ name: String) -> [String: String] { ["x-toolforge-tool": name] }
    static func user(_ name: String) -> [String: String] { ["x-toolforge-user": name] }

    func get(_ path: String, as identity: [String: String], accept: String? = nil) async throws -> TestHTTPResponse {
        var headers = identity
        if let accept { headers["Accept"] = accept }
        return try await TestHTTP.request(base + path, headers: headers)
    }

    /// The items of a JSON page.
    func logs(_ path: String, as identity: [String: String] = tool("demo")) async throws -> (items: [LogItem], next: String?) {
        let response = try await get(path, as: identity)
        guard response.status == 200 else { throw HarnessError(text: "\(path): \(response.status) \(response.text)") }
        let page = try response.json(LogPage.self)
        return (page.data.logs, page.data.next)
    }

    struct LogPage: Decodable {
        struct Data: Decodable {
            var logs: [LogItem]
            var next: String?
        }

        var data: Data
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}

/// Polls until `body` returns a value (bounded: 20 s).
func eventually<T>(_ what: String, timeout: Duration = .seconds(20), _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var lastError: Error?
    while ContinuousClock.now < deadline {
        do {
            if let value = try await body() { return value }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw HarnessError(text: "timed out waiting for \(what)\(lastError.map { ": \($0)" } ?? "")")
}
