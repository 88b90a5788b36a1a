import AgentWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LogModel
import Logging
import NIOCore
import NodeAgent
import Prometheus
import RingStore
import Testing
import TestSupport

/// The agent's HTTP API through its router, no socket: who may call it, and what it refuses.
@Suite(.timeLimit(.minutes(3))) struct AgentRouterTests {
    static let token = "router-test-token"
    static let auth: HTTPFields = [.authorization: "Bearer \(token)"]

    /// An agent over empty directories of its own (ingest and retention run, on nothing).
    static func withAgent(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let scratch = Scratch("agent-router")
        try FileManager.default.createDirectory(atPath: scratch.file("pods"), withIntermediateDirectories: true)
        let configuration = AgentConfiguration(
            node: "node-1", podsDirectory: scratch.file("pods"), dataDirectory: scratch.file("data"), host: "127.0.0.1", port: 0,
            token: token, podsJSON: nil, capacities: RingCapacities(prefix: 64 << 10, suffix: 1 << 20),
            retention: RetentionPolicy(budgetBytes: 64 << 20), limits: IngestLimits(), syncInterval: nil)
        let app = try LogsAgent.buildApplication(configuration, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        try await app.test(.router) { client in try await test(client) }
        _ = scratch
    }

    static func errors(_ response: TestResponse) -> [String] {
        (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body.readableBytesView)))?.messages.error ?? []
    }

    /// A ring to read: a pushed line makes one without any ingest.
    static func pushedRing(_ client: some TestClientProtocol) async throws -> String {
        let pushed = try await client.execute(uri: AgentRoutes.customSource(tool: "demo", name: "deploys"), method: .post, headers: auth,
                                              body: ByteBuffer(string: #"[{"message": "deployed v2", "user": "alice"}]"#))
        #expect(pushed.status == .created)
        let inventory = try await client.execute(uri: AgentRoutes.rings, method: .get, headers: auth)
        return try #require(try JSONDecoder().decode(AgentInventory.self, from: Data(inventory.body.readableBytesView)).rings.first?.id)
    }

    @Test func onlyTheGatewaysTokenOpensTheInternalAPI() async throws {
        try await Self.withAgent { client in
            let ring = try await Self.pushedRing(client)
            let calls: [(String, HTTPRequest.Method)] = [(AgentRoutes.rings, .get), (AgentRoutes.stats, .get), (AgentRoutes.ringLogs(ring), .get),
                                                         (AgentRoutes.ring(ring), .delete), (AgentRoutes.tool("demo"), .delete),
                                                         (AgentRoutes.customSource(tool: "demo", name: "x"), .post),
                                                         (AgentRoutes.foldedRings(tool: "demo"), .get), (AgentRoutes.foldedRuns(tool: "demo"), .get)]
            for (path, method) in calls {
                let none = try await client.execute(uri: path, method: method, body: ByteBuffer(string: #"[{"message": "x"}]"#))
                #expect(none.status == .unauthorized, "\(path)")
                #expect(Self.errors(none) == ["missing bearer token"], "\(path)")
            }
            for header in ["Bearer wrong", "Bearer \(Self.token)x", "Bearer ", "Basic \(Self.token)", Self.token, "bearer \(Self.token)"] {
                for (path, method) in calls {
                    let denied = try await client.execute(uri: path, method: method, headers: [.authorization: header],
                                                          body: ByteBuffer(string: #"[{"message": "x"}]"#))
                    #expect(denied.status == .unauthorized, "\(header) \(path)")
                    #expect(Self.errors(denied) == ["invalid bearer token"], "\(header) \(path)")
                }
            }
            // Nothing was pushed or purged by the denied calls.
            let logs = try await client.execute(uri: AgentRoutes.ringLogs(ring), method: .get, headers: Self.auth)
            #expect(logs.status == .ok)
            #expect(String(buffer: logs.body).split(separator: "\n").count == 1)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
        }
    }

    @Test func badParametersAreRefusedWithTheirReason() async throws {
        try await Self.withAgent { client in
            let ring = try await Self.pushedRing(client)
            let cases: [(String, String)] = [
                ("?lines=-1", "lines: must be a whole number from 0 to 1000000, not -1"),
                ("?lines=5&after=0", "lines: the last lines start where they start, not after a position"),
                ("?since=yesterday", "since: must be nanoseconds since the epoch, not yesterday"),
                ("?stream=both", "stream: must be stdout, stderr or other, not both"),
                ("?follow=yes", "follow: must be true or false, not yes"),
                ("?limit_bytes=0", "limit_bytes: must be a positive whole number, not 0"),
                ("?after=r1.\(ring).0", "after: must be a position (a whole number), not r1.\(ring).0"),
                ("?cursor=3", "cursor: not a parameter of a ring read"),
            ]
            for (query, message) in cases {
                let response = try await client.execute(uri: AgentRoutes.ringLogs(ring) + query, method: .get, headers: Self.auth)
                #expect(response.status == .badRequest, "\(query)")
                #expect(Self.errors(response) == [message], "\(query)")
            }
            let unknown = try await client.execute(uri: AgentRoutes.ringLogs("00000000-0000-4000-8000-000000000000"), method: .get, headers: Self.auth)
            #expect(unknown.status == .notFound)
            #expect(Self.errors(unknown) == ["no ring 00000000-0000-4000-8000-000000000000 on node-1"])
            let statuses: [(String, HTTPResponse.Status, String)] = [
                (AgentRoutes.ringLogs("x"), .badRequest, "not a ring id: x"),
                (AgentRoutes.rings + "?kind=cron", .badRequest, "kind: must be one of continuous, scheduled, oneoff, webservice, build, custom, activity"),
                (AgentRoutes.rings + "?state=gone", .badRequest, "state: must be live or finished, not gone"),
                (AgentRoutes.rings + "?since_version=-3", .badRequest, "since_version: must be a whole number"),
            ]
            for (path, status, message) in statuses {
                let response = try await client.execute(uri: path, method: .get, headers: Self.auth)
                #expect(response.status == status, "\(path)")
                #expect(Self.errors(response) == [message], "\(path)")
            }
            let missing = try await client.execute(uri: "/\(AgentRoutes.prefix)/nothing", method: .get, headers: Self.auth)
            #expect(missing.status == .notFound)
            #expect(!Self.errors(missing).isEmpty)
        }
    }

    @Test func badPushesAreRefusedAndKeepNothing() async throws {
        try await Self.withAgent { client in
            let ring = try await Self.pushedRing(client)
            let push = AgentRoutes.customSource(tool: "demo", name: "deploys")
            let refusals: [(String, String, HTTPResponse.Status, String)] = [
                (push, "not json", .badRequest, #"the body must be a JSON array of objects, each with a "message" string"#),
                // The gateway's rule (`PushedLines`), kept once in AgentWire.
                (push, #"[{"msg": "x"}]"#, .badRequest, "the line: message must be a string"),
                (push, #"[{"message": "x", "datetime": "noon"}]"#, .badRequest, "the line: datetime must be an RFC 3339 time with Z or an offset"),
                (push, #"[{"message": "x"}, {"message": "y", "datetime": "yesterday"}]"#, .badRequest,
                 "line 1: datetime must be an RFC 3339 time with Z or an offset"),
                (push, #"[{"message": "x", "pod": "web-1"}]"#, .badRequest, "the line: pod is a name the API itself uses"),
                (AgentRoutes.customSource(tool: "Demo", name: "deploys"), #"[{"message": "x"}]"#, .badRequest,
                 "tool: must be a lowercase RFC 1123 label (a-z, 0-9, -; at most 63), not Demo"),
                (AgentRoutes.customSource(tool: "demo", name: ".."), #"[{"message": "x"}]"#, .badRequest,
                 "name: must be a lowercase RFC 1123 label (a-z, 0-9, -; at most 63), not .."),
                (push, "[" + Array(repeating: #"{"message": "x"}"#, count: 1001).joined(separator: ",") + "]", .contentTooLarge,
                 "at most 1000 lines per request, not 1001"),
            ]
            for (path, body, status, message) in refusals {
                let response = try await client.execute(uri: path, method: .post, headers: Self.auth, body: ByteBuffer(string: body))
                #expect(response.status == status, "\(path) \(body.prefix(40))")
                #expect(Self.errors(response) == [message], "\(path) \(body.prefix(40))")
            }
            let tooBig = try await client.execute(uri: push, method: .post, headers: Self.auth,
                                                  body: ByteBuffer(string: "[" + String(repeating: " ", count: 2 << 20) + "]"))
            #expect(tooBig.status == .contentTooLarge)
            let logs = try await client.execute(uri: AgentRoutes.ringLogs(ring), method: .get, headers: Self.auth)
            let items = try String(buffer: logs.body).split(separator: "\n").map { try AgentItem(line: Array($0.utf8)).decoded() }
            #expect(items.map(\.message) == ["deployed v2"])
        }
    }
}
