import Foundation
@testable import Gateway
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
    /// With `--auth mtls`: the certificates from `scripts/make-certs`.
    private(set) var certificates: String?

    /// The identities `mutualTLS` makes certificates for.
    static let certificateIdentities = ["tool:demo", "tool:other", "user:alice", "user:bob", "user:ops", "evil:mallory"]

    /// The gateway finds the (one) agent through `--agents-dns localhost:PORT`.
    let agentsDNS: Bool
    /// More flags for every agent.
    let agentArguments: [String]

    init(nodes: [String] = ["node-1", "node-2", "node-3"], gatewayArguments: [String] = [], mutualTLS: Bool = false,
         agentsDNS: Bool = false, agentArguments: [String] = []) throws {
        self.nodes = nodes
        self.agentArguments = agentArguments
        self.gatewayArguments = gatewayArguments
        self.agentsDNS = agentsDNS
        if mutualTLS {
            certificates = scratch.file("certs")
            try Self.makeCertificates(in: scratch.file("certs"), for: Self.certificateIdentities)
        }
        try token.replace(file: scratch.file("token"))
        try "demo: [alice]\nother: [bob]\n".replace(file: scratch.file("members.yaml"))
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
                        "--pods-json", scratch.file("pods-\(node).json")] + agentArguments,
            logPath: scratch.file("agent-\(node).log"))
        try agent.start()
        agents[node] = agent
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func makeCertificates(in directory: String, for identities: [String]) throws {
        let script = Process()
        script.executableURL = URL(fileURLWithPath: repository + "/scripts/make-certs")
        script.arguments = [directory] + identities
        try script.run()
        script.waitUntilExit()
        guard script.terminationStatus == 0 else { throw HarnessError(text: "scripts/make-certs failed") }
    }

    func startGateway() throws {
        let port = gateway?.port ?? 0
        let authentication = certificates.map {
            ["--auth", "mtls", "--tls-cert", "\($0)/server.crt", "--tls-key", "\($0)/server.key", "--client-ca", "\($0)/ca.crt"]
        } ?? ["--trusted-proxy", "127.0.0.1/32"]
        gateway = ServiceProcess(
            executable: ServiceProcess.product("logs-gateway"),
            arguments: ["--listen", "127.0.0.1:\(port)", "--agent-token-file", scratch.file("token")] + authentication + [
                        "--members-file", scratch.file("members.yaml"),
                        "--admin", "ops", "--service", "jobs-api=^/v1/tool/[^/]+/source/jobs-api/log$",
                        "--heartbeat", "1s", "--spec", Self.repository + "/openapi/openapi.yaml"]
                + (agentsDNS ? ["--agents-dns", "localhost:\(agents[nodes[0]]!.port)"]
                    : nodes.flatMap { ["--agent", "\($0)=http://127.0.0.1:\(agents[$0]!.port)"] }) + gatewayArguments,
            logPath: scratch.file("gateway.log"))
        try gateway.start()
    }

    var base: String { "\(certificates == nil ? "http" : "https")://127.0.0.1:\(gateway.port)" }

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

    /// The follows the gateway holds open now.
    func openFollows() async throws -> Double? {
        metric("logs_gateway_follows", in: try await TestHTTP.request(base + "/v1/metrics").text)
    }

    /// The items of a JSON page, and the next page's URL (relative: `?…`).
    func logs(_ path: String, as identity: [String: String] = tool("demo")) async throws -> (items: [LogItem], next: String?) {
        try Self.page(try await get(path, as: identity))
    }

    /// The page, or nil while the gateway has no logs there yet (404, or 503 while an agent is
    /// not yet known): what a test polls for.
    func logsWhenThere(_ path: String, as identity: [String: String] = tool("demo")) async throws -> (items: [LogItem], next: String?)? {
        let response = try await get(path, as: identity)
        if response.status == 404 || response.status == 503 { return nil }
        let page = try Self.page(response)
        return page.items.isEmpty ? nil : page
    }

    /// Read with the types generated from the spec, so that a page the spec does not describe
    /// fails here and not only under schemathesis; the items then as `LogItem`s, which tests
    /// compare.
    private static func page(_ response: TestHTTPResponse) throws -> (items: [LogItem], next: String?) {
        let page = try response.ok().json(Components.Schemas.LogsResponse.self)
        return (try response.json(Items.self).data.logs, page.data.next?.url)
    }

    private struct Items: Decodable {
        struct Data: Decodable { var logs: [LogItem] }
        var data: Data
    }
}

/// The curl tool, for what the tests' HTTP client does not do: another source address, client
/// certificates. Answers the status (0 when no HTTP answer came) and the body.
func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-s", "-w", "\n%{http_code}", "--max-time", "20"] + arguments
    let output = Pipe()
    curl.standardOutput = output
    try curl.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    curl.waitUntilExit()
    let status = text.split(separator: "\n").last.flatMap { Int($0) } ?? 0
    return (status, String(text[..<(text.lastIndex(of: "\n") ?? text.endIndex)]))
}

struct HarnessError: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}
