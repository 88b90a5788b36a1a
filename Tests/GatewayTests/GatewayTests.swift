import AgentWire
import Foundation
import LogModel
import Testing
import TestSupport

/// The gateway in front of three real agents.
@Suite(.serialized, .timeLimit(.minutes(3))) struct GatewayTests {
    /// End to end through the front proxy's headers: the tool reads its lines, a member too,
    /// another tool is refused, and no path trick reaches them (the whole matrix, with every
    /// message, is GatewayRouterTests').
    @Test func onlyTheToolAndItsMembersReadItsLines() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "worker-1")
        try log.write("secret of demo")
        let path = "/v1/tool/demo/job/worker-1/logs"
        _ = try await eventually("the job") { try await gw.logsWhenThere(path)?.items.first }
        #expect(try await gw.logs(path, as: GatewayHarness.user("alice")).items.map(\.message) == ["secret of demo"])
        let other = try await gw.get(path, as: GatewayHarness.tool("other"))
        #expect(other.status == 403)
        #expect(!other.text.contains("secret"))
        #expect(try await gw.get(path, as: [:]).status == 401)
        for trick in ["/v1/tool/demo/job/..%2Fother/logs", "/v1/tool/Demo/job/worker-1/logs", "/v1/tool/demo/../other/inventory",
                      "/v1/tool/demo%2F..%2Fother/inventory", "/v1/tool/other/job/worker-1/logs"] {
            let response = try await gw.get(trick, as: GatewayHarness.tool("other"))
            #expect([400, 403, 404].contains(response.status), "\(trick)")
            #expect(!response.text.contains("secret"), "\(trick)")
        }
        #expect(try await gw.get("/v1/admin/nodes", as: GatewayHarness.user("ops")).text.contains("node-1"))
    }

    /// Operators see what each node and tool holds before and after compression.
    /// A download of one ring in NDJSON goes on as the agent sends it: every line once, in
    /// order, a line the runtime split joined, with a cursor on every thousandth entry and on
    /// the last of each write, from which a read resumes exactly; what a filter or the other
    /// direction needs is the same lines.
    @Test func oneRingsNDJSONCarriesCursorsToResumeFrom() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "big")
        let start = NanoTime.now() - 60_000_000_000
        for n in 0..<2500 {
            if n == 7 { try log.write("split ", partial: true, time: start + Int64(n) * 1000) }
            try log.write("line \(n)", stream: n % 3 == 0 ? "stderr" : "stdout", time: start + Int64(n) * 1000)
        }
        let path = "/v1/tool/demo/job/big/logs?since=\(NanoTime.format(start - 1))"
        let items = try await eventually("every line") {
            let items = try await gw.get(path, as: GatewayHarness.tool("demo"), accept: "application/x-ndjson").items()
            return items.count == 2500 ? items : nil
        }
        #expect(items.map(\.message) == (0..<2500).map { $0 == 7 ? "split line 7" : "line \($0)" })
        #expect(items.allSatisfy { $0.pod == "big" && $0.container == "job" && $0.node == "node-1" && $0.datetime != nil })
        #expect(items.filter { $0.stream == "stderr" }.count == 834)
        let marked = items.indices.filter { items[$0].cursor != nil }
        #expect(marked.last == 2499)
        #expect([999, 1999].allSatisfy(marked.contains))
        for index in marked {
            let rest = try await gw.get(path + "&after=\(items[index].cursor!)&lines=2", as: GatewayHarness.tool("demo"),
                                        accept: "application/x-ndjson").items()
            #expect(rest.map(\.message) == items.dropFirst(index + 1).prefix(2).map(\.message), "after entry \(index)")
        }
        let stderr = try await gw.get(path + "&stream=stderr", as: GatewayHarness.tool("demo"), accept: "application/x-ndjson").items()
        #expect(stderr.map(\.message) == items.filter { $0.stream == "stderr" }.map(\.message))
        // The relay is reached only past the same checks: another tool, or nobody, reads nothing.
        for (identity, status) in [(GatewayHarness.tool("other"), 403), ([:], 401)] {
            let denied = try await gw.get(path, as: identity, accept: "application/x-ndjson")
            #expect(denied.status == status)
            #expect(!denied.text.contains("line 1"))
        }
    }

    @Test func nodeUsageTellsBytesKeptBeforeAndAfterCompression() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "chatty")
        for n in 0..<400 { try log.write("GET /api/v1/items/\(n % 50) 200 \(n % 13)ms user-agent=toolforge-bot/1.0") }
        _ = try await eventually("the lines") { try await gw.logsWhenThere("/v1/tool/demo/job/chatty/logs?lines=400")?.items.count == 400 ? true : nil }
        let answer = try await gw.get("/v1/admin/nodes/node-1", as: GatewayHarness.user("ops"))
        #expect(answer.status == 200)
        let data = try #require(try JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any])["data"] as? [String: Any]
        let tool = try #require((data?["tools"] as? [[String: Any]])?.first { $0["tool"] as? String == "demo" })
        let kept = try #require(tool["kept_bytes"] as? Int)
        #expect(kept >= 400 * 50, "the tool's lines, as written")
        #expect(try #require(data?["kept_bytes"] as? Int) >= kept)
        #expect(try #require(tool["bytes"] as? Int) > 0)
    }

    /// What takes lines to tell: windows at the edges of time, a job with nothing in the window,
    /// and the process's own endpoints (the refusals of bad parameters are GatewayRouterTests').
    @Test func windowsAndTheProcessEndpoints() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "p")
        try log.write("x")
        let path = "/v1/tool/demo/job/p/logs"
        _ = try await eventually("the job") { try await gw.logsWhenThere(path)?.items.first }
        // Times at the edge of what a time can be are a window like any other.
        for query in ["?until=1677-09-21T00:12:44Z", "?since=1677-09-21T00:12:44Z", "?since=2262-04-11T23:47:16Z&until=2262-04-11T23:47:16.8Z"] {
            #expect([200, 404].contains(try await gw.get(path + query, as: GatewayHarness.tool("demo")).status), "\(query)")
        }
        let unknown = try await gw.get("/v1/tool/demo/job/nope/logs", as: GatewayHarness.tool("demo"))
        #expect(unknown.status == 404)
        #expect(unknown.errors == ["Job 'nope' does not have any logs available"])
        // A job whose lines are all older than the window has none in it, as the platform says.
        let old = try gw.writer(node: "node-1", pod: "old")
        try old.write("long ago", time: NanoTime.now() - 7_200_000_000_000)
        _ = try await eventually("the old job") { try await gw.logsWhenThere("/v1/tool/demo/job/old/logs?since=3h")?.items.first }
        // `until` alone: the window is the hour before it.
        #expect(try await gw.logs("/v1/tool/demo/job/old/logs?until=90m").items.compactMap(\.message) == ["long ago"])
        let empty = try await gw.get("/v1/tool/demo/job/old/logs", as: GatewayHarness.tool("demo"))
        #expect(empty.status == 404)
        #expect(empty.errors == ["Job 'old' does not have any logs available"])
        let spec = try await TestHTTP.request(gw.base + "/openapi.json")
        #expect(spec.status == 200)
        #expect(spec.text.contains("\"openapi\":\"3.1.0\""))
        #expect(try await TestHTTP.request(gw.base + "/v1/healthz").status == 200)
        #expect(try await TestHTTP.request(gw.base + "/v1/metrics").text.contains("http_server_request_duration"))
    }

    /// Past the request rate or the follows a tool may hold open: 429, per identity and per tool.
    @Test func tooManyRequestsAndFollowsAre429() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], gatewayArguments: ["--rate-limit", "2", "--follows-per-tool", "1"])
        let log = try gw.writer(node: "node-1", pod: "busy")
        try log.write("x")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/busy/logs", as: GatewayHarness.user("alice"))?.items.first }
        let url = gw.base + "/v1/tool/demo/job/busy/logs?follow=true"
        let first = Task { try await TestHTTP.follow(url, headers: GatewayHarness.tool("demo")) { $0.contains { $0.type == .heartbeat } } }
        try await waitUntil("the first follow") { try await gw.openFollows() == 1 }
        let second = try await gw.get("/v1/tool/demo/job/busy/logs?follow=true", as: GatewayHarness.tool("demo"))
        #expect(second.status == 429)
        #expect(second.errors == ["demo already has 1 open follows"])
        _ = try await first.value
        var statuses: [Int] = []
        for _ in 0..<15 { statuses.append(try await gw.get("/v1/tool/demo/inventory", as: GatewayHarness.tool("other")).status) }
        #expect(statuses.contains(429))
        #expect(statuses.first == 403)  // denied, and counted
        // Another identity has its own budget (alice's polling above may have spent hers: let it refill).
        try await Task.sleep(for: .seconds(1))
        #expect(try await gw.get("/v1/tool/demo/inventory", as: GatewayHarness.user("alice")).status == 200)
    }

    /// Identity headers from a peer that is not a trusted proxy are ignored: 401.
    @Test func headersFromAnUntrustedAddressAreIgnored() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        // The gateway listens on 127.0.0.1; this connection comes from 127.0.0.2.
        let answer = try curl(["--interface", "127.0.0.2", "-H", "x-toolforge-tool: demo", gw.base + "/v1/tool/demo/inventory"])
        #expect(answer.status == 401)
    }

    /// `--auth mtls`: the identity is the verified client certificate's subject, and nothing else.
    @Test func mutualTLSTakesTheIdentityFromTheCertificate() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], mutualTLS: true)
        let certificates = try #require(gw.certificates)
        let log = try gw.writer(node: "node-1", pod: "worker-1")
        try log.write("secret of demo")
        let path = gw.base + "/v1/tool/demo/job/worker-1/logs"
        func get(_ url: String, as name: String?, ca: String = certificates, headers: [String] = []) throws -> (status: Int, body: String) {
            let identity = name.map { ["--cert", "\(ca)/\($0).crt", "--key", "\(ca)/\($0).key"] } ?? []
            return try curl(["--cacert", "\(certificates)/ca.crt"] + identity + headers.flatMap { ["-H", $0] } + [url])
        }
        _ = try await eventually("the job") { try get(path, as: "demo").body.contains("secret of demo") ? true : nil }

        #expect(try get(path, as: "alice").status == 200)
        let denied: [(String?, [String], Int, String)] = [
            ("other", [], 403, "tool certificates may read only their own tool's logs, not demo's"),
            ("bob", [], 403, "bob is not a member of demo"),
            ("mallory", [], 401, "the client certificate's subject is not a tool's or a user's: CN=mallory,O=evil"),
            (nil, [], 401, "no identity"),
            // Identity headers mean nothing here, from any address.
            (nil, ["x-toolforge-tool: demo"], 401, "no identity"),
            ("bob", ["x-toolforge-user: alice"], 403, "bob is not a member of demo"),
        ]
        for (name, headers, status, message) in denied {
            let answer = try get(path, as: name, headers: headers)
            #expect(answer.status == status, "\(name ?? "no certificate") \(headers)")
            #expect(answer.body.contains(message), "\(answer.body)")
            #expect(!answer.body.contains("secret"))
        }
        // Health needs no certificate; a certificate from another CA ends the handshake.
        #expect(try get(gw.base + "/v1/healthz", as: nil).status == 200)
        let forged = gw.scratch.file("forged")
        try GatewayHarness.makeCertificates(in: forged, for: ["tool:demo"])
        #expect(try get(path, as: "demo", ca: forged).status == 0)
        // Plain HTTP to the TLS port gets no log.
        #expect(try !curl([path.replacingOccurrences(of: "https:", with: "http:")]).body.contains("secret"))
    }

    /// Bad flags stop the gateway before it starts, with the flag and the reason (EX_USAGE).
    @Test func badFlagsAreRefusedWithTheirReason() throws {
        let cases: [([String], String)] = [
            (["--auth", "mtls", "--tls-cert", "/nonexistent", "--tls-key", "/nonexistent", "--client-ca", "/nonexistent"],
             "--tls-cert: cannot read /nonexistent"),
            (["--auth", "mtls"], "--auth mtls needs --tls-cert, --tls-key and --client-ca"),
            (["--auth", "ldap"], "--auth: expected proxy or mtls, not ldap"),
            (["--agents-dns", "localhost"], "--agents-dns: expected HOST:PORT, not localhost"),
            (["--agents-dns", "localhost:8090", "--agent", "n=http://127.0.0.1:1"], "--agent and --agents-dns exclude each other"),
            (["--listen", ":80"], "--listen: expected HOST:PORT, not :80"),
            (["--agent-token-file", "/nonexistent"], "--agent-token-file: /nonexistent: there is no such file"),
        ]
        for (arguments, message) in cases {
            let (status, said) = try ServiceProcess.runToExit(ServiceProcess.product("logs-gateway"),
                                                              (arguments.contains("--agents-dns") ? [] : ["--agent", "n=http://127.0.0.1:1"]) + arguments)
            #expect(status == 64, "\(arguments)")
            #expect(said.contains("Error: " + message), "\(arguments): \(said)")
        }
    }

    /// `--agents-dns`: the agent is found by name, asked which node it is, and followed through
    /// a restart; while it is down it is said to be unreachable, not forgotten.
    @Test func agentsAreFoundThroughDNS() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], agentsDNS: true)
        let log = try gw.writer(node: "node-1", pod: "worker-1")
        try log.write("found by name")
        let item = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/worker-1/logs")?.items.first }
        #expect(item.message == "found by name")
        #expect(item.node == "node-1")
        func nodes() async throws -> String {
            try await gw.get("/v1/admin/nodes", as: GatewayHarness.user("ops")).text.replacingOccurrences(of: " ", with: "")
        }
        #expect(try await nodes().contains(#""node":"node-1""#))

        gw.agents["node-1"]!.kill()
        _ = try await eventually("node-1 unreachable") { try await nodes().contains(#""available":false"#) ? true : nil }
        try gw.startAgent("node-1")
        try log.write("after the restart")
        _ = try await eventually("the new line") {
            try await gw.logsWhenThere("/v1/tool/demo/job/worker-1/logs")?.items.contains { $0.message == "after the restart" } == true ? true : nil
        }
    }

    /// Two webservice replicas on two nodes: one read, merged by time; a cursor resumes exactly.
    @Test func mergesReplicasByTimeAndResumesByCursor() async throws {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"])
        let a = try PodLogWriter(podsDirectory: gw.pods("node-1"), namespace: "tool-demo", pod: "demo-web-a", container: "webservice")
        let b = try PodLogWriter(podsDirectory: gw.pods("node-2"), namespace: "tool-demo", pod: "demo-web-b", container: "webservice")
        let start: Int64 = 1_795_341_600_000_000_000
        for index in 0..<10 {
            try (index % 2 == 0 ? a : b).write("request \(index)", time: start + Int64(index) * 1_000_000)
        }
        let podList = { (name: String, uid: String) in
            """
            {"metadata": {"name": "\(name)", "namespace": "tool-demo", "uid": "\(uid)", "labels": {"app.kubernetes.io/component": "web"}}}
            """
        }
        for (node, writer) in [("node-1", a), ("node-2", b)] {
            try "{\"items\": [\(podList(writer.pod, writer.uid))]}".replace(file: gw.scratch.file("pods-\(node).json"))
        }
        let merged = try await eventually("both replicas as the webservice") {
            let page = try await gw.logsWhenThere("/v1/tool/demo/webservice/logs?since=2026-11-22T00:00:00Z")
            return page?.items.count == 10 ? page : nil
        }
        #expect(merged.items.compactMap(\.message) == (0..<10).map { "request \($0)" })
        #expect(merged.items.map(\.node) == (0..<10).map { $0 % 2 == 0 ? "node-1" : "node-2" })
        // Resume from the fourth item: the rest, exactly once, still in order across nodes.
        let cursor = try #require(merged.items[3].cursor)
        let rest = try await gw.logs("/v1/tool/demo/webservice/logs?since=2026-11-22T00:00:00Z&after=\(cursor)")
        #expect(rest.items.compactMap(\.message) == (4..<10).map { "request \($0)" })
        let newest = try await gw.logs("/v1/tool/demo/webservice/logs?since=2026-11-22T00:00:00Z&container=webservice&lines=3&direction=newest_first")
        #expect(newest.items.compactMap(\.message) == ["request 9", "request 8", "request 7"])
        let oldest = try await gw.logs("/v1/tool/demo/webservice/logs?since=2026-11-22T00:00:00Z&lines=3")
        #expect(oldest.items.compactMap(\.message) == ["request 0", "request 1", "request 2"])
        // The window comes before the count: the last two lines before request 5.
        let until = NanoTime.format(start + 5_000_000)
        let beforeFive = try await gw.logs("/v1/tool/demo/webservice/logs?since=2026-11-22T00:00:00Z&until=\(until)&lines=2&direction=newest_first")
        #expect(beforeFive.items.compactMap(\.message) == ["request 4", "request 3"])
        // What happened to the pods is recorded once the agent has caught up.
        _ = try await eventually("demo-web-a in the activity") {
            try await gw.logs("/v1/tool/demo/activity").items.contains { $0.message?.contains("demo-web-a") == true } ? true : nil
        }
        // Another job's cursor is refused, not served.
        let other = try gw.writer(node: "node-1", pod: "batch")
        try other.write("elsewhere")
        let otherPage = try await eventually("the other job") { try await gw.logsWhenThere("/v1/tool/demo/job/batch/logs") }
        let foreign = try await gw.get("/v1/tool/demo/webservice/logs?after=\(otherPage.items[0].cursor!)", as: GatewayHarness.tool("demo"))
        #expect(foreign.status == 400)
        #expect(foreign.errors == ["after: the cursor is not one of webservice of demo"])
        let garbage = try await gw.get("/v1/tool/demo/webservice/logs?after=zzz", as: GatewayHarness.tool("demo"))
        #expect(garbage.status == 400)
    }

    /// The platform's paging: pages of 500 entries whose `next.url` (relative, with the window
    /// made absolute) goes on; every line once and in order, both ways; `lines` caps the total.
    @Test func pagesThePlatformWay() async throws {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"])
        let a = try gw.writer(node: "node-1", pod: "pager")
        let b = try gw.writer(node: "node-2", pod: "pager")
        let start = NanoTime.now() - 1_800_000_000_000
        for index in 0..<1_100 {
            try (index % 3 == 0 ? b : a).write("line \(index)", time: start + Int64(index) * 1_000_000)
        }
        let job = "/v1/tool/demo/job/pager/logs"
        _ = try await eventually("every line") {
            try await gw.logsWhenThere(job + "?direction=newest_first&lines=1")?.items.first?.message == "line 1099" ? true : nil
        }
        func all(_ query: String) async throws -> (messages: [String], pages: Int) {
            var messages: [String] = []
            var url: String? = "?" + query
            var pages = 0
            while let next = url {
                #expect(next.hasPrefix("?") && next.utf8.count < 4096, "\(next)")
                let page = try await gw.logs(job + next)
                #expect(page.items.count <= 500)
                #expect(page.next != next)
                messages += page.items.compactMap(\.message)
                url = page.next
                pages += 1
            }
            return (messages, pages)
        }
        let forward = try await all("")
        #expect(forward.messages == (0..<1_100).map { "line \($0)" })
        #expect(forward.pages == 3)
        let backward = try await all("direction=newest_first")
        #expect(backward.messages == (0..<1_100).reversed().map { "line \($0)" })
        let capped = try await all("direction=newest_first&lines=700")
        #expect(capped.messages == (400..<1_100).reversed().map { "line \($0)" })
        #expect(capped.pages == 2)
        // The window made absolute on page 1 holds on the next: a line written meanwhile waits.
        let first = try await gw.logs(job + "?lines=600")
        try a.write("line written meanwhile")
        let second = try await gw.logs(job + first.next!)
        #expect(second.items.compactMap(\.message) == (500..<600).map { "line \($0)" })
        #expect(second.next == nil)
    }

    /// Follow streams new lines; the stream's cursors resume after a cut with no duplicate.
    @Test func followStreamsNewLinesAndResumes() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "tail-me")
        try log.write("first")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/tail-me/logs")?.items.first }
        let url = gw.base + "/v1/tool/demo/job/tail-me/logs?follow=true"
        let follow = Task {
            try await TestHTTP.follow(url, headers: GatewayHarness.tool("demo")) { items in
                items.contains { $0.message == "third" }
            }
        }
        try await waitUntil("the follow") { try await gw.openFollows() == 1 }
        try log.write("second")
        try log.write("third")
        let items = try await follow.value.filter { $0.type == .log }
        #expect(items.compactMap(\.message) == ["first", "second", "third"])
        // The connection is gone; more lines come; resuming from the last cursor gets them once.
        try log.write("fourth")
        try log.write("fifth")
        let resumed = try await TestHTTP.follow(url + "&after=\(items.last!.cursor!)", headers: GatewayHarness.tool("demo")) { items in
            items.contains { $0.message == "fifth" }
        }
        #expect(resumed.filter { $0.type == .log }.compactMap(\.message) == ["fourth", "fifth"])
        // Text: the lines themselves, one ring's passed through from its agent, several merged.
        let text = try await gw.get("/v1/tool/demo/job/tail-me/logs?lines=3", as: GatewayHarness.tool("demo"), accept: "text/plain")
        #expect(text.text == "first\nsecond\nthird\n")
        let newest = try await gw.get("/v1/tool/demo/job/tail-me/logs?lines=3&direction=newest_first", as: GatewayHarness.tool("demo"),
                                      accept: "text/plain")
        #expect(newest.text == "third\nfourth\nfifth\n")
        let after = try await gw.get("/v1/tool/demo/job/tail-me/logs?after=\(items[0].cursor!)", as: GatewayHarness.tool("demo"),
                                     accept: "text/plain")
        #expect(after.text == "second\nthird\nfourth\nfifth\n")
        // SSE: each event's id is the cursor.
        let sse = try await TestHTTP.request(gw.base + "/v1/tool/demo/job/tail-me/logs?lines=1",
                                             headers: GatewayHarness.tool("demo").merging(["Accept": "text/event-stream"]) { $1 })
        #expect(sse.text.hasPrefix("id: k1."))
        #expect(sse.text.contains("data: {\"type\":\"log\""))
    }

    /// A follow from a time starts there, however old the gateway's index of the ring is: a ring
    /// whose window held nothing goes on from where its agent said it ended, not from the
    /// index's end (here an hour old), which would replay the lines written since.
    @Test func aFollowFromATimeStartsThereWhateverTheIndexSays() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], gatewayArguments: ["--index-interval", "1h"])
        let log = try gw.writer(node: "node-1", pod: "since-me")
        try log.write("old-1")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/since-me/logs")?.items.first }
        try log.write("old-2")
        try log.write("old-3")
        // The agent holds them (a read asks it), while the index still says the ring ends after old-1.
        try await waitUntil("old-3 at the agent") {
            try await gw.get("/v1/tool/demo/job/since-me/logs?lines=1&direction=newest_first", as: GatewayHarness.tool("demo"),
                             accept: "text/plain").text == "old-3\n"
        }
        try await Task.sleep(for: .milliseconds(20))
        let since = NanoTime.format(NanoTime.now())
        let url = gw.base + "/v1/tool/demo/job/since-me/logs?follow=true&since=\(since)"
        let follow = Task {
            try await TestHTTP.follow(url, headers: GatewayHarness.tool("demo")) { items in items.contains { $0.message == "new-1" } }
        }
        try await waitUntil("the follow") { try await gw.openFollows() == 1 }
        try log.write("new-1")
        #expect(try await follow.value.filter { $0.type == .log }.compactMap(\.message) == ["new-1"])
    }

    /// Five followers of one ring: the agent serves one follow, and every line reaches every follower.
    @Test func manyFollowersShareOnePull() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "busy")
        try log.write("line 0")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/busy/logs")?.items.first }
        let url = gw.base + "/v1/tool/demo/job/busy/logs?follow=true"
        let followers = (0..<5).map { _ in
            Task {
                try await TestHTTP.follow(url, headers: GatewayHarness.tool("demo")) { items in items.contains { $0.message == "line 10" } }
            }
        }
        func agentFollows() async throws -> Double? {
            metric("logs_agent_follows", in: try await TestHTTP.request("http://127.0.0.1:\(gw.agents["node-1"]!.port)/metrics").text)
        }
        _ = try await eventually("the followers' one pull") { try await agentFollows() == 1 ? true : nil }
        let gateway = try await TestHTTP.request(gw.base + "/v1/metrics").text
        #expect(metric("logs_gateway_follows", in: gateway) == 5)
        #expect(metric("logs_gateway_upstream_pulls", in: gateway) == 1)
        #expect(metric(#"logs_gateway_agents{state="reachable"}"#, in: gateway) == 1)
        #expect(metric("logs_gateway_index_rings", in: gateway).map { $0 >= 1 } == true)
        for i in 1...10 { try log.write("line \(i)") }
        for follower in followers {
            let lines = try await follower.value.filter { $0.type == .log }.compactMap(\.message)
            #expect(lines == (0...10).map { "line \($0)" })
        }
        // The followers hung up: their follows end, and with the last of them the pull and the agent's follow.
        try await waitUntil("the pull ends with its last follower") {
            let gateway = try await TestHTTP.request(gw.base + "/v1/metrics").text
            let atAgent = try await agentFollows()
            return metric("logs_gateway_follows", in: gateway) == 0 && metric("logs_gateway_upstream_pulls", in: gateway) == 0 && atAgent == 0
        }
    }

    /// An agent stopped under a follow: the follower is told, and gets the lines written while it
    /// was down once it is back, each once.
    @Test func aFollowResumesWhenItsAgentReturns() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "steady")
        try log.write("before")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/steady/logs")?.items.first }
        let follower = Task {
            try await TestHTTP.follow(gw.base + "/v1/tool/demo/job/steady/logs?follow=true", headers: GatewayHarness.tool("demo"),
                                      timeout: .seconds(30)) { items in items.contains { $0.message == "after" } }
        }
        try await waitUntil("the follow") { try await gw.openFollows() == 1 }
        gw.agents["node-1"]!.kill(SIGTERM)
        try log.write("while down")
        try await Task.sleep(for: .seconds(1))
        try gw.startAgent("node-1")
        try log.write("after")
        let items = try await follower.value
        #expect(items.filter { $0.type == .log }.compactMap(\.message) == ["before", "while down", "after"])
        #expect(items.contains { $0.type == .message && $0.message?.contains("node-1 is unreachable") == true })
    }

    /// Following one run that has finished ends at its end, as `kubectl logs -f` does.
    @Test func followingAFinishedRunEndsAtItsEnd() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let log = try gw.writer(node: "node-1", pod: "backup-28971234-x7k2p")
        try log.write("backing up")
        try log.write("done")
        let podList = """
        {"kind": "PodList", "items": [{
          "metadata": {"name": "backup-28971234-x7k2p", "namespace": "tool-demo", "uid": "\(log.uid)",
                       "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "backup"},
                       "ownerReferences": [{"kind": "Job", "name": "backup-28971234"}]},
          "spec": {"nodeName": "node-1", "containers": [{"name": "job"}]},
          "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated":
                     {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-22T10:00:00Z", "finishedAt": "2026-11-22T10:05:00Z"}}}]}
        }]}
        """
        try podList.replace(file: gw.scratch.file("pods-node-1.json"))
        _ = try await eventually("the finished run") {
            try await gw.get("/v1/tool/demo/job/backup/runs", as: GatewayHarness.tool("demo")).text.contains("finished") ? true : nil
        }
        let started = ContinuousClock.now
        let items = try await TestHTTP.follow(gw.base + "/v1/tool/demo/job/backup/logs?follow=true&run=backup-28971234",
                                              headers: GatewayHarness.tool("demo")) { _ in false }
        #expect(items.filter { $0.type == .log }.compactMap(\.message) == ["backing up", "done"])
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// A node that is down: a read that needs only it is 503; the inventory says it is unavailable.
    @Test func anUnreachableNodeIsSaidNotHidden() async throws {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"])
        let log = try gw.writer(node: "node-2", pod: "on-two")
        try log.write("here")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/on-two/logs")?.items.first }
        gw.agents["node-2"]!.kill()
        let inventory = try await eventually("node-2 marked unavailable") {
            let response = try await gw.get("/v1/tool/demo/inventory", as: GatewayHarness.tool("demo"))
            return response.text.contains("\"available\":false") ? response : nil
        }
        #expect(inventory.text.contains("node-2 is unreachable"))
        let missing = try await gw.get("/v1/tool/demo/job/never-was/logs", as: GatewayHarness.tool("demo"))
        #expect(missing.status == 503)
        #expect(missing.errors.first?.contains("node-2") == true)
    }

    /// A streamed read hands out its whole window, a page at a time, however long: here two
    /// containers of one job (two rings, merged by time) over more than two pages, as NDJSON
    /// and as text, oldest first and its last lines; a split line counts once; a byte budget
    /// cuts the merged lines, not one ring's.
    @Test func aLongStreamedReadHandsOutItsWholeWindow() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"])
        let total = 12_000
        let start = NanoTime.parse("2026-11-22T10:00:00Z")!
        for (container, parity) in [("job", 0), ("sidecar", 1)] {
            let log = try gw.writer(node: "node-1", pod: "long", container: container)
            try log.writeRaw(stride(from: parity, to: total, by: 2).map { i in
                let time = NanoTime.format(start + Int64(i) * 1_000_000)
                // Line 7 is split by the runtime: two records, one line.
                return i == 7 ? "\(time) stdout P line \n\(time) stdout F 7\n" : "\(time) stdout F line \(i)\n"
            }.joined())
        }
        let window = "/v1/tool/demo/job/long/logs?since=2026-11-22T09:00:00Z&until=2026-11-22T11:00:00Z"
        _ = try await eventually("every line ingested", timeout: .seconds(60)) {
            let newest = try await gw.logsWhenThere(window + "&lines=2&direction=newest_first")?.items.compactMap(\.message)
            return newest == ["line \(total - 1)", "line \(total - 2)"] ? true : nil
        }
        func read(_ query: String, accept: String) async throws -> String {
            try await gw.get(window + query, as: GatewayHarness.tool("demo"), accept: accept).ok().text
        }
        let all = (0..<total).map { "line \($0)" }
        let ndjson = try await read("", accept: "application/x-ndjson").split(separator: "\n")
            .map { try JSONDecoder().decode(LogItem.self, from: Data($0.utf8)) }
        #expect(ndjson.allSatisfy { $0.type == .log }, "no warning: nothing is left out")
        #expect(ndjson.compactMap(\.message) == all)
        #expect(try await read("", accept: "text/plain") == all.joined(separator: "\n") + "\n")
        #expect(try await read("&direction=newest_first&lines=7000", accept: "text/plain")
            == all.suffix(7000).joined(separator: "\n") + "\n")
        #expect(try await read("&direction=newest_first&lines=11994", accept: "text/plain")
            == all.suffix(11994).joined(separator: "\n") + "\n")
        // A byte budget over both rings: a prefix of the merged lines, none skipped.
        let limited = try await read("&limit_bytes=20000", accept: "text/plain")
        #expect((20_000..<20_100).contains(limited.utf8.count), "\(limited.utf8.count)")
        #expect((all.joined(separator: "\n") + "\n").hasPrefix(limited))
    }

    /// Pushed lines land on one agent and read back; reserved sources are the services' own.
    @Test func pushReadAndPurge() async throws {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"])
        let body = Array(#"[{"message": "deployed v2", "user": "alice"}]"#.utf8)
        let pushed = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/deploys/log", method: .POST,
                                                headers: GatewayHarness.tool("demo").merging(["Content-Type": "application/json"]) { $1 }, body: body)
        #expect(pushed.status == 201)
        let read = try await eventually("the pushed line") { try await gw.logsWhenThere("/v1/tool/demo/source/deploys/logs")?.items.first }
        #expect(read.message == "deployed v2")
        #expect(read.fields?["user"] == .string("alice"))
        let reserved = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/jobs-api/log", method: .POST,
                                                  headers: GatewayHarness.tool("demo").merging(["Content-Type": "application/json"]) { $1 }, body: body)
        #expect(reserved.status == 403)
        #expect(reserved.errors == ["jobs-api is reserved for the platform's services"])
        let asService = GatewayHarness.user("service:jobs-api").merging(["Content-Type": "application/json"]) { $1 }
        // The platform's way: one object, an event with what the logs CLI formats for its type.
        let event = #"{"message": "created", "event_type": "created", "job_name": "w", "user_name": "alice", "message_format": "text"}"#
        let service = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/jobs-api/log", method: .POST, headers: asService,
                                                 body: Array(event.utf8))
        #expect(service.status == 201)
        #expect(service.text.contains(#""status":"OK""#))
        let refusals: [(String, Int, String)] = [
            (#"{"message": "x"}"#, 400, "the line: source jobs-api holds events: event_type must be one of created, deleted, restarted, updated"),
            (#"{"message": "x", "event_type": "restarted", "job_name": "w"}"#, 400,
             "the line: a restarted event of source jobs-api needs job_name, user_name; user_name is missing"),
            (#"{"message": "x", "event_type": "restarted", "job_name": "w", "user_name": "a", "source": "jobs"}"#, 400,
             "the line: source is a name the API itself uses"),
            (#"{"message": "x", "event_type": "restarted", "job_name": "w", "user_name": "a", "Bad-Name": 1}"#, 400,
             "the line: a field name is 1 to 64 of a-z, 0-9 and _, not Bad-Name"),
        ]
        for (bad, status, message) in refusals {
            let answer = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/jobs-api/log", method: .POST, headers: asService,
                                                    body: Array(bad.utf8))
            #expect(answer.status == status, "\(bad)")
            #expect(answer.errors == [message], "\(bad)")
        }
        let huge = #"{"message": "\#(String(repeating: "x", count: 70_000))"}"#
        // Names and times that would pass for what they are not.
        for (path, bad, message) in [("jobs", #"{"message": "x"}"#, "jobs is the name of a source of the tool's log; push to another name"),
                                     ("deploys", #"{"message": "x", "datetime": "2200-01-01T00:00:00Z"}"#,
                                      "the line: datetime is in the future: 2200-01-01T00:00:00Z")] {
            let answer = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/\(path)/log", method: .POST,
                                                    headers: GatewayHarness.tool("demo").merging(["Content-Type": "application/json"]) { $1 },
                                                    body: Array(bad.utf8))
            #expect(answer.status == 400, "\(bad)")
            #expect(answer.errors == [message], "\(bad)")
        }
        let tooLong = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/deploys/log", method: .POST,
                                                 headers: GatewayHarness.tool("demo").merging(["Content-Type": "application/json"]) { $1 },
                                                 body: Array(huge.utf8))
        #expect(tooLong.status == 413)
        let tooMany = Array(("[" + Array(repeating: #"{"message": "x"}"#, count: 1001).joined(separator: ",") + "]").utf8)
        let refused = try await TestHTTP.request(gw.base + "/v1/tool/demo/source/deploys/log", method: .POST,
                                                 headers: GatewayHarness.tool("demo").merging(["Content-Type": "application/json"]) { $1 }, body: tooMany)
        #expect(refused.status == 413)

        let log = try gw.writer(node: "node-1", pod: "leaky")
        try log.write("password=hunter2")
        _ = try await eventually("the job") { try await gw.logsWhenThere("/v1/tool/demo/job/leaky/logs")?.items.first }
        let purge = try await TestHTTP.request(gw.base + "/v1/tool/demo/job/leaky/runs/leaky", method: .DELETE,
                                               headers: GatewayHarness.tool("demo"))
        #expect(purge.status == 200)
        let gone = try await gw.get("/v1/tool/demo/job/leaky/logs", as: GatewayHarness.tool("demo"))
        #expect(gone.status == 404)
    }
}

/// One sample of a Prometheus text exposition.
