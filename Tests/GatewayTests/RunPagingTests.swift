import Foundation
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

    @Test func runsPageNewestFirstAcrossNodesOnceEach() async throws {
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
        let demo = GatewayHarness.tool("demo")
        try await waitUntil("every run finished and folded") {
            let folded = try ["node-1", "node-2"].allSatisfy { node in
                try FileManager.default.contentsOfDirectory(atPath: gw.scratch.file("data-\(node)")).filter { $0.hasSuffix(".ring") }.count == 1
            }
            // Until the agents know the job, the answer is a 404 (no data to decode).
            guard let page = try? await gw.get("/v1/tool/demo/job/tick/runs?limit=1000", as: demo).json(Page.self) else { return false }
            return folded && page.data.total == Self.runs && !page.data.runs.contains { $0.exit_code == nil }
        }

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
}
