import Foundation
@testable import Gateway
import LogModel
import TestSupport
import Testing

/// A scheduled job's runs on two nodes, folded into their history files there, listed a page at
/// a time through the gateway: newest first, each run once, a failed one found by a filter.
@Suite(.timeLimit(.minutes(3))) struct RunPagingTests {
    struct Page: Decodable {
        struct Run: Decodable {
            var run: String
            var exit_code: Int?
            var reason: String?
            var started: String?
        }

        struct Data: Decodable {
            var runs: [Run]
            var next: String?
            var total: Int
            var oldest: String?
        }

        var data: Data
    }

    static let runs = 9

    func podEntry(_ pod: String, uid: String, run: Int) -> String {
        let code = run == 4 ? 1 : 0
        return """
        {"metadata": {"name": "\(pod)", "namespace": "tool-demo", "uid": "\(uid)",
                      "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "tick"},
                      "ownerReferences": [{"kind": "Job", "name": "tick-\(run)"}]},
         "spec": {"containers": [{"name": "job"}]},
         "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated":
                    {"exitCode": \(code), "reason": "\(code == 0 ? "Completed" : "Error")",
                     "startedAt": "2026-11-22T10:0\(run):00Z", "finishedAt": "2026-11-22T10:0\(run):30Z"}}}]}}
        """
    }

    /// Nine runs of `tick`, alternately on node-1 and node-2, finished and folded there; run 4 failed.
    func foldedRuns() async throws -> GatewayHarness {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"], agentArguments: ["--fold-after", "1s"])
        var entries: [String: [String]] = [:]
        for run in 0..<Self.runs {
            let node = run % 2 == 0 ? "node-1" : "node-2"
            let log = try gw.writer(node: node, pod: "tick-\(run)-x7k2p")
            try log.write("run \(run)")
            entries[node, default: []].append(podEntry("tick-\(run)-x7k2p", uid: log.uid, run: run))
        }
        for (node, items) in entries {
            try "{\"kind\": \"PodList\", \"items\": [\(items.joined(separator: ","))]}".replace(file: gw.scratch.file("pods-\(node).json"))
        }
        try await waitUntil("every run finished and folded") {
            let folded = try ["node-1", "node-2"].allSatisfy { node in
                try FileManager.default.contentsOfDirectory(atPath: gw.scratch.file("data-\(node)")).filter { $0.hasSuffix(".ring") }.count == 1
            }
            // Until the agents know the job, the answer is a 404 (no data to decode).
            guard let page = try? await gw.get("/v1/tool/demo/job/tick/runs?limit=1000", as: GatewayHarness.tool("demo")).json(Page.self)
            else { return false }
            return folded && page.data.total == Self.runs && !page.data.runs.contains { $0.exit_code == nil }
        }
        // A fold removes the ring files before the agent's inventory says so, and the gateway
        // asks every 2 seconds.
        try await waitUntil("the gateway knows tick's folded runs on each node") {
            metric("logs_gateway_index_folded_jobs", in: try await TestHTTP.request(gw.base + "/v1/metrics").text) == 2
        }
        return gw
    }

    @Test func runsPageNewestFirstAcrossNodesOnceEach() async throws {
        let gw = try await foldedRuns()
        let demo = GatewayHarness.tool("demo")
        var seen: [String] = []
        var cursor: String?
        repeat {
            let query = "limit=4" + (cursor.map { "&before=\($0)" } ?? "")
            let page = try await gw.get("/v1/tool/demo/job/tick/runs?\(query)", as: demo).json(Page.self)
            #expect(page.data.total == Self.runs)
            #expect(page.data.oldest == "2026-11-22T10:00:00.000000000Z")
            #expect(page.data.runs.count == min(4, Self.runs - seen.count))
            seen += page.data.runs.map(\.run)
            cursor = page.data.next
        } while cursor != nil
        #expect(seen == (0..<Self.runs).reversed().map { "tick-\($0)" })

        let failed = try await gw.get("/v1/tool/demo/job/tick/runs?state=failed", as: demo).json(Page.self)
        #expect(failed.data.runs.map(\.run) == ["tick-4"])
        // A folded run is listed with what Kubernetes said of its end, as a live one is.
        #expect(failed.data.runs.map(\.reason) == ["Error"])
        #expect(failed.data.total == 1)
        #expect(failed.data.next == nil)

        // The oldest run, folded on node-1, reads as it was written.
        let oldest = try await gw.get("/v1/tool/demo/job/tick/logs?run=tick-0&since=2026-11-01T00:00:00Z", as: demo).text
        #expect(oldest.contains("run 0"))

        for bad in ["before=r1.bm90LWEtY3Vyc29y", "before=nonsense", "limit=0", "limit=1001", "state=sad"] {
            let answer = try await gw.get("/v1/tool/demo/job/tick/runs?\(bad)", as: demo)
            #expect(answer.status == 400, "\(bad)")
            #expect(!answer.errors.isEmpty, "\(bad)")
        }
    }

    /// The gateway indexes each node's folded jobs, not their runs; a read asks the nodes for
    /// the runs it needs: the newest, a given one, the last lines of all, from a cursor.
    @Test func foldedRunsAreAskedForNotIndexed() async throws {
        let gw = try await foldedRuns()
        let demo = GatewayHarness.tool("demo")
        let metrics = try await TestHTTP.request(gw.base + "/v1/metrics").text
        #expect(metric("logs_gateway_index_rings", in: metrics) == 2, "each node's activity ring, and none of the 9 runs")
        let inventory = try await gw.get("/v1/tool/demo/inventory", as: demo).json(Components.Schemas.InventoryResponse.self)
        #expect(inventory.data.folded?.map { "\($0.name)@\($0.node)" } == ["tick@node-1", "tick@node-2"])
        #expect(!inventory.data.rings.contains { $0.name == "tick" })

        let since = "since=2026-11-01T00:00:00Z"
        let text = "text/plain"
        #expect(try await gw.get("/v1/tool/demo/job/tick/logs?run=latest&\(since)", as: demo, accept: text).text == "run 8\n")
        #expect(try await gw.get("/v1/tool/demo/job/tick/logs?run=tick-5&\(since)", as: demo, accept: text).text == "run 5\n")
        let tail3 = try await gw.get("/v1/tool/demo/job/tick/logs?\(since)&lines=3&direction=newest_first", as: demo, accept: text)
        #expect(tail3.text == "run 6\nrun 7\nrun 8\n", "\(tail3.status)")

        // A page of every run's lines, then on from the third line's cursor: the rest, once each.
        let all = try await gw.logs("/v1/tool/demo/job/tick/logs?\(since)")
        #expect(all.items.compactMap(\.message) == (0..<Self.runs).map { "run \($0)" })
        let cursor = try #require(all.items[2].cursor)
        let resumed = try await gw.get("/v1/tool/demo/job/tick/logs?\(since)&after=\(cursor)", as: demo)
        #expect(resumed.status == 200, "\(resumed.errors)")
        let rest = try await gw.logs("/v1/tool/demo/job/tick/logs?\(since)&after=\(cursor)")
        #expect(rest.items.compactMap(\.message) == (3..<Self.runs).map { "run \($0)" })

        // A typo's hint knows the job by its folded runs alone.
        let typo = try await gw.get("/v1/tool/demo/job/tik/logs?\(since)", as: demo)
        #expect(typo.status == 404)
        #expect(typo.errors.first?.hasSuffix("(did you mean 'tick'?)") == true, "\(typo.errors)")

        // A folded run is purged through the gateway like any other.
        let purged = try await TestHTTP.request(gw.base + "/v1/tool/demo/job/tick/runs/tick-5", method: .DELETE, headers: demo)
        #expect(purged.status == 200)
        #expect(try await gw.get("/v1/tool/demo/job/tick/logs?run=tick-5&\(since)", as: demo).status == 404)
        let after = try await gw.get("/v1/tool/demo/job/tick/runs?limit=1000", as: demo)
        #expect(after.status == 200, "\(after.text)")
        let page = try after.json(Page.self)
        #expect(page.data.runs.map(\.run) == [8, 7, 6, 4, 3, 2, 1, 0].map { "tick-\($0)" })
        #expect(page.data.total == Self.runs - 1)
    }
}
