import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LogModel
import Logging
import NIOCore
import Prometheus
import Testing
import TestSupport

/// The gateway's router without a socket or an agent: who may do what, and what every
/// parameter refuses, each with its status and its message. What passes authorization and
/// validation then finds no logs (404) or no agent (503): no agent is needed to tell those
/// apart from the refusals.
@Suite(.timeLimit(.minutes(3))) struct GatewayRouterTests {
    /// Believes the front proxy's headers from anyone: a router test has no peer to trust.
    struct HeadersSayWho: RouterMiddleware {
        typealias Context = GatewayRequestContext
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let identity = try ProxyIdentityMiddleware.identity(from: request.headers, organizations: SubjectOrganizations())
            return try await Identity.$current.withValue(identity) { try await next(request, context) }
        }
    }

    static func withGateway(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let scratch = Scratch("gateway-router")
        try "demo: [alice]\nother: [bob]\n".replace(file: scratch.file("members.yaml"))
        let configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, agents: .fixed([]), agentToken: nil, authentication: .proxy(trustedProxies: []),
            access: AccessPolicy(members: Members(path: scratch.file("members.yaml")), admins: ["ops"],
                                 services: ["jobs-api": "^/v1/tool/[^/]+/source/jobs-api/log$"], reservedSources: ["jobs-api"]),
            limits: GatewayLimits(requestsPerSecond: 10_000, burst: 10_000, followsPerTool: 4),
            specPath: GatewayHarness.repository + "/openapi/openapi.yaml")
        let app = try LogsGateway.buildApplication(configuration, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"),
                                                   identity: HeadersSayWho())
        try await app.test(.router) { client in try await test(client) }
        _ = scratch
    }

    static func tool(_ name: String) -> HTTPFields { [HTTPField.Name("x-toolforge-tool")!: name] }
    static func user(_ name: String) -> HTTPFields { [HTTPField.Name("x-toolforge-user")!: name] }

    static func errors(_ response: TestResponse) -> [String] {
        (try? JSONDecoder().decode(Envelope.self, from: Data(response.body.readableBytesView)))?.messages.error ?? []
    }

    struct Envelope: Decodable { var messages: Messages }

    @Test func authorizationMatrix() async throws {
        try await Self.withGateway { client in
            let read = "/v1/tool/demo/job/worker-1/logs"
            let noLogs = "Job 'worker-1' does not have any logs available"
            var subject = HTTPFields()
            subject[HTTPField.Name("ssl-client-subject-dn")!] = "CN=demo,O=evil"
            var conflict = Self.tool("other")
            conflict[HTTPField.Name("ssl-client-subject-dn")!] = "CN=demo,O=toolforge"
            var toolAndUser = Self.tool("demo")
            toolAndUser[HTTPField.Name("x-toolforge-user")!] = "bob"
            let cases: [(String, HTTPRequest.Method, HTTPFields, HTTPResponse.Status, String)] = [
                // Reading: the tool itself and its members; nobody else.
                (read, .get, Self.tool("demo"), .notFound, noLogs),
                (read, .get, Self.user("alice"), .notFound, noLogs),
                (read, .get, toolAndUser, .notFound, noLogs),
                (read, .get, [:], .unauthorized, "no identity: present a tool or user certificate through the API gateway"),
                (read, .get, Self.tool("other"), .forbidden, "tool certificates may read only their own tool's logs, not demo's"),
                (read, .get, Self.user("bob"), .forbidden, "bob is not a member of demo"),
                (read, .get, Self.user("ops"), .forbidden, "ops is not a member of demo"),
                (read, .get, Self.user("service:jobs-api"), .forbidden, "service jobs-api may not read logs"),
                (read, .get, conflict, .badRequest, "conflicting identity headers: tool:other, tool:demo"),
                (read, .get, subject, .unauthorized, "the client certificate's subject is not a tool's or a user's: CN=demo,O=evil"),
                ("/v1/tool/demo/inventory", .get, Self.tool("other"), .forbidden, "tool certificates may read only their own tool's logs, not demo's"),
                ("/v1/tool/demo/logs", .get, Self.user("bob"), .forbidden, "bob is not a member of demo"),
                ("/v1/tool/demo/job/worker-1/runs", .get, Self.tool("other"), .forbidden, "tool certificates may read only their own tool's logs, not demo's"),
                // Purging is a reader's right over its own tool; a whole tool, an operator's.
                (read, .delete, Self.tool("other"), .forbidden, "tool certificates may read only their own tool's logs, not demo's"),
                (read, .delete, Self.tool("demo"), .notFound, "no logs of job worker-1 for tool demo"),
                ("/v1/admin/tools/demo", .delete, Self.user("alice"), .forbidden, "user:alice is not an operator"),
                // Operators see usage, not content.
                ("/v1/admin/nodes", .get, Self.user("alice"), .forbidden, "user:alice is not an operator"),
                ("/v1/admin/nodes", .get, Self.tool("demo"), .forbidden, "tool:demo is not an operator"),
                ("/v1/admin/nodes/node-9", .get, Self.user("ops"), .notFound, "no node node-9"),
            ]
            for (path, method, headers, status, message) in cases {
                let response = try await client.execute(uri: path, method: method, headers: headers)
                #expect(response.status == status, "\(method) \(path) \(headers)")
                #expect(Self.errors(response) == [message], "\(method) \(path) \(headers)")
            }
            #expect(try await client.execute(uri: "/v1/admin/nodes", method: .get, headers: Self.user("ops")).status == .ok)
            // Path tricks never name another tool.
            for trick in ["/v1/tool/demo/job/..%2Fother/logs", "/v1/tool/Demo/job/worker-1/logs", "/v1/tool/demo/../other/inventory",
                          "/v1/tool/demo%2F..%2Fother/inventory"] {
                let response = try await client.execute(uri: trick, method: .get, headers: Self.tool("demo"))
                #expect([.badRequest, .forbidden, .notFound].contains(response.status), "\(trick)")
            }
        }
    }

    @Test func whoMayWriteWhichSource() async throws {
        try await Self.withGateway { client in
            func push(_ source: String, as headers: HTTPFields) async throws -> TestResponse {
                var headers = headers
                headers[.contentType] = "application/json"
                return try await client.execute(uri: "/v1/tool/demo/source/\(source)/log", method: .post, headers: headers,
                                                body: ByteBuffer(string: #"{"message": "deployed", "event_type": "created", "job_name": "j", "user_name": "u", "message_format": "m"}"#))
            }
            // Past authorization and validation, there is no agent to keep the line: 503.
            let passed = "no agent is known yet to keep source deploys of demo"
            for (source, headers, status, message) in [
                ("deploys", Self.tool("demo"), HTTPResponse.Status.serviceUnavailable, passed),
                ("deploys", Self.user("alice"), .serviceUnavailable, passed),
                ("jobs-api", Self.user("service:jobs-api"), .serviceUnavailable, "no agent is known yet to keep source jobs-api of demo"),
                ("deploys", Self.tool("other"), .forbidden, "tool certificates may write only their own tool's logs, not demo's"),
                ("deploys", Self.user("service:jobs-api"), .forbidden, "service jobs-api may not write /v1/tool/demo/source/deploys/log"),
                ("jobs-api", Self.tool("demo"), .forbidden, "jobs-api is reserved for the platform's services"),
                ("jobs", Self.tool("demo"), .badRequest, "jobs is the name of a source of the tool's log; push to another name"),
            ] {
                let response = try await push(source, as: headers)
                #expect(response.status == status, "\(source) \(headers)")
                #expect(Self.errors(response) == [message], "\(source) \(headers)")
            }
        }
    }

    /// Every parameter is checked, and the error says which and why.
    @Test func badParametersAreRefusedWithTheirReason() async throws {
        try await Self.withGateway { client in
            let path = "/v1/tool/demo/job/p/logs"
            let cases: [(String, String)] = [
                ("?lines=abc", "lines: must be a whole number, not abc"),
                ("?lines=-1", "lines: must be 0 or more, not -1"),
                ("?direction=sideways", "direction: must be oldest_first or newest_first, not sideways"),
                ("?follow=true&direction=newest_first", "direction: a follow is oldest first"),
                ("?limit_bytes=0", "limit_bytes: must be from 1 to 1073741824, not 0"),
                ("?follow=maybe", "follow: must be true or false, not maybe"),
                ("?stream=both", "stream: must be all, stdout or stderr, not both"),
                ("?since=yesterday", #"Invalid "since" time: yesterday (expected an ISO 8601 time with Z or an offset, or a duration such as 90s, 10m, 1h32m22s or 2d)"#),
                ("?until=2026-13-01T00:00:00Z", #"Invalid "until" time: 2026-13-01T00:00:00Z (expected an ISO 8601 time with Z or an offset, or a duration such as 90s, 10m, 1h32m22s or 2d)"#),
                ("?since=1h&until=2h", #""since" time must be before "until" time"#),
                ("?since=0s", #""since" time must be before now (the end of a read without "until")"#),
                ("?container=Bad_Name", "container: not a container name: Bad_Name"),
                ("?grep=" + String(repeating: "x", count: 1025), "grep: must be 1 to 1024 bytes"),
                ("?run=a/b", "run: expected latest, all or a run id, not a/b"),
                ("?direction=newest_first&after=c1.\(Base64.encode(Array("x=s1".utf8), urlSafe: true))",
                 "after: a follow's cursor goes on forward, not newest first"),
                ("?direction=newest_first&after=k1.\(Base64.encode(Array("o;1;r;2".utf8), urlSafe: true))",
                 "after: the cursor is of a read in the other direction"),
                ("?after=c1.nonsense", "after: not a cursor of this API: c1.nonsense"),
                ("?after=k1.\(Base64.encode(Array("o;x;r;2".utf8), urlSafe: true))",
                 "after: not a cursor of this API: k1.\(Base64.encode(Array("o;x;r;2".utf8), urlSafe: true))"),
            ]
            for (query, message) in cases {
                let response = try await client.execute(uri: path + query, method: .get, headers: Self.tool("demo"))
                #expect(response.status == .badRequest, "\(query)")
                #expect(Self.errors(response) == [message], "\(query)")
            }
            let names: [(String, String)] = [
                ("/v1/tool/demo/job/Not_A_Job/logs", "not a job name: Not_A_Job"),
                ("/v1/tool/demo/builds/Bad_Build/logs", "not a build name: Bad_Build"),
                ("/v1/tool/demo/logs?job_names=Bad_Job", "job_names: not a name: Bad_Job"),
                ("/v1/tool/demo/logs?deployment_ids=" + String(repeating: "d", count: 1025), "deployment_ids: at most 1024 characters, not 1025"),
            ]
            for (path, message) in names {
                let response = try await client.execute(uri: path, method: .get, headers: Self.tool("demo"))
                #expect(response.status == .badRequest, "\(path)")
                #expect(Self.errors(response) == [message], "\(path)")
            }
            let wrongMethod = try await client.execute(uri: "/v1/healthz", method: .delete)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(try await client.execute(uri: "/v1/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/logs/v1/healthz", method: .get).status == .ok)
        }
    }
}
