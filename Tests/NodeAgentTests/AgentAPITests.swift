import AgentWire
import Foundation
import LogModel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct AgentAPITests {
    /// The process as deployed: health and metrics answer anyone, the rest the token only.
    @Test func metricsAndHealthAnswerWithoutTheToken() async throws {
        let agent = try AgentHarness()
        #expect(try await agent.get(AgentRoutes.rings, headers: [:]).status == 401)
        #expect(try await agent.get(AgentRoutes.rings).status == 200)
        #expect(try await agent.get("/healthz", headers: [:]).status == 200)
        let metrics = try await agent.get("/metrics", headers: [:])
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("http_server_request_duration"))
        #expect(metrics.text.contains("logs_agent_rings{state=\"live\"}"))
        #expect(metrics.text.contains("logs_agent_used_bytes"))
        #expect(metrics.text.contains("logs_agent_kept_bytes"))
        // Per tool, once the tool has a ring here.
        let log = try agent.writer(pod: "talker")
        try log.write("a line to hold")
        _ = try await agent.ring(pod: "talker")
        let kept = try await eventually("the tool's bytes") { () -> String? in
            let text = try await agent.get("/metrics", headers: [:]).text
            return text.split(separator: "\n").first { $0.hasPrefix("logs_agent_tool_kept_bytes{tool=\"demo\"}") }.map(String.init)
        }
        // The line's 14 bytes, and the activity of its run's start when that is recorded too.
        #expect(Double(kept.split(separator: " ").last ?? "").map { $0 >= 14 } == true, "\(kept)")
        #expect(try await agent.get("/metrics", headers: [:]).text.contains("logs_agent_tool_stored_bytes{tool=\"demo\"}"))
    }

    @Test func pushedLinesKeepTheirFields() async throws {
        let agent = try AgentHarness()
        let url = agent.base + AgentRoutes.customSource(tool: "demo", name: "releases")
        let body = #"[{"message": "deployed", "datetime": "2026-11-22T10:00:00Z", "user": "alice", "jobs": 2}]"#
        let pushed = try await TestHTTP.request(url, method: .POST, headers: agent.auth, body: Array(body.utf8))
        #expect(pushed.status == 201)
        let ring = try #require(try await agent.inventory("?kind=custom").rings.first)
        #expect(ring.name == "releases")
        let item = try #require(try await agent.items(ring).first)
        #expect(item.message == "deployed")
        #expect(item.fields?["user"] == .string("alice"))
        #expect(item.fields?["jobs"] == .number(2))
        #expect(item.fields?["datetime"] == nil)
        #expect(item.datetime == "2026-11-22T10:00:00.000000000Z")  // stamped with its own time
        #expect((item.pod, item.container, item.node) == ("", "", "node-1"))  // the four members every entry has
    }

    /// The gateway refuses a line more than 5 minutes ahead of its clock; one it let through
    /// that is ahead of this node's clock is kept, stamped with its arrival.
    @Test func aPushedLineAheadOfTheNodesClockIsStampedWithItsArrival() async throws {
        let agent = try AgentHarness()
        let url = agent.base + AgentRoutes.customSource(tool: "demo", name: "releases")
        let before = NanoTime.now()
        let body = #"[{"message": "from a fast clock", "datetime": "2099-01-01T00:00:00Z"}]"#
        #expect(try await TestHTTP.request(url, method: .POST, headers: agent.auth, body: Array(body.utf8)).status == 201)
        let ring = try #require(try await agent.inventory("?kind=custom").rings.first)
        let item = try #require(try await agent.items(ring).first)
        let stamped = try #require(item.datetime.flatMap(NanoTime.parse))
        #expect(stamped >= before && stamped <= NanoTime.now(), "\(item.datetime ?? "")")
    }

    @Test func purgeRemovesTheBytesAndRecordsTheActivity() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "leaky")
        try log.write("password=hunter2")
        let ring = try await agent.ring(pod: "leaky")
        try await waitUntil("the line") { try await agent.items(ring).count == 1 }
        let purge = try await TestHTTP.request(agent.base + AgentRoutes.ring(ring.id), method: .DELETE, headers: agent.auth)
        #expect(purge.status == 200)
        #expect(try await agent.get(AgentRoutes.ringLogs(ring.id)).status == 404)
        let files = try FileManager.default.contentsOfDirectory(atPath: agent.data)
        #expect(!files.contains("\(ring.id).ring"))
        let activity = try #require(try await agent.inventory("?kind=activity").rings.first)
        let events = try await agent.messages(activity)
        #expect(events.contains { $0.contains("purged") })
        // A purge of the whole tool.
        let tool = try await TestHTTP.request(agent.base + AgentRoutes.tool("demo"), method: .DELETE, headers: agent.auth)
        #expect(tool.status == 200)
        #expect(try await agent.inventory("?tool=demo").rings.isEmpty)
        // The kubelet still has the purged run's log file: a restarted agent must not read it in
        // again. A pod written after the restart shows the agent has scanned them all.
        try agent.restart()
        try agent.writer(pod: "later").write("after the restart")
        let later = try await agent.ring(pod: "later")
        try await waitUntil("the later line") { try await agent.items(later).count == 1 }
        #expect(try await agent.inventory().rings.allSatisfy { $0.pod != "leaky" })
    }

    /// The activity timeline says when things happened (a run's start and end as the kubelet
    /// reports them), in that order, whatever order the agent learnt of them in.
    @Test func activityHasTheTimesOfWhatHappened() async throws {
        let agent = try AgentHarness()
        // Three finished runs of a scheduled job, found at once; their uids (and so the order
        // in which the agent finds their directories) have nothing to do with their times.
        // The pod list comes first, as it does on the platform (and in the demo).
        let runs = [("backup-29000002", "10:20"), ("backup-29000000", "10:00"), ("backup-29000001", "10:10")]
        let uids = runs.map { _ in UUID().uuidString.lowercased() }
        var items: [String] = []
        for ((run, minute), uid) in zip(runs, uids) {
            items.append("""
            {"metadata": {"name": "\(run)-x", "namespace": "tool-demo", "uid": "\(uid)",
                          "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "backup"},
                          "ownerReferences": [{"kind": "Job", "name": "\(run)"}]},
             "spec": {"nodeName": "node-1", "containers": [{"name": "job"}]},
             "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated":
                        {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-22T\(minute):00Z", "finishedAt": "2026-11-22T\(minute):30Z"}}}]}}
            """)
        }
        try "{\"kind\": \"PodList\", \"items\": [\(items.joined(separator: ","))]}".replace(file: agent.podsJSON)
        // The three pods' directories appear at once, as the kubelet's would for runs found
        // after a restart: written aside (a name the agent does not take for a pod), then
        // renamed in, so that no ingest turn falls between them.
        let aside = agent.pods + "/staging"
        for ((run, _), uid) in zip(runs, uids) {
            try PodLogWriter(podsDirectory: aside, namespace: "tool-demo", pod: "\(run)-x", uid: uid, container: "job")
                .write("output of \(run)")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: aside) {
            guard rename(aside + "/" + name, agent.pods + "/" + name) == 0 else { throw Timeout(what: "renaming \(name)") }
        }
        let events: [LogItem] = try await eventually("six events") {
            guard let ring = try await agent.inventory("?kind=activity").rings.first else { return nil }
            let events = try await agent.items(ring)
            return events.count >= 6 ? events : nil
        }
        #expect(events.compactMap(\.datetime) == ["10:00:00", "10:00:30", "10:10:00", "10:10:30", "10:20:00", "10:20:30"]
            .map { "2026-11-22T\($0).000000000Z" })
        #expect(events.compactMap(\.run) == ["backup-29000000", "backup-29000000", "backup-29000001", "backup-29000001",
                                            "backup-29000002", "backup-29000002"])
        #expect(events.compactMap(\.message).allSatisfy { $0.contains("backup") })
    }

    @Test func podListGivesKindsNamesRunsAndExitsAndTheInventoryDeltas() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "backup-28971234-x7k2p")
        try log.write("starting backup")
        let before = try await agent.ring(pod: "backup-28971234-x7k2p")
        #expect(before.kind == .continuous)  // the path alone says no more
        let start = try await agent.inventory()
        let podList = """
        {"kind": "PodList", "items": [{
          "metadata": {"name": "backup-28971234-x7k2p", "namespace": "tool-demo", "uid": "\(log.uid)",
                       "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "backup"},
                       "ownerReferences": [{"kind": "Job", "name": "backup-28971234"}]},
          "spec": {"nodeName": "node-1", "containers": [{"name": "job", "image": "tool-demo/tool-demo:latest"}]},
          "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated":
                     {"exitCode": 1, "reason": "Error", "startedAt": "2026-11-22T10:00:00Z", "finishedAt": "2026-11-22T10:05:00Z"}}}]}
        }]}
        """
        try podList.replace(file: agent.podsJSON)
        let after = try await eventually("metadata from the pod list") {
            try await agent.inventory().rings.first { $0.id == before.id && $0.state == .finished }
        }
        #expect(after.kind == .scheduled)
        #expect(after.name == "backup")
        #expect(after.run == "backup-28971234")
        #expect(after.exitCode == 1)
        #expect(after.reason == "Error")
        #expect(after.image == "tool-demo/tool-demo:latest")
        #expect(after.finishedAt == "2026-11-22T10:05:00.000000000Z")
        let delta = try await agent.inventory("?since_version=\(start.version)")
        #expect(!delta.full)
        #expect(delta.rings.contains { $0.id == before.id })
        #expect(delta.instance == start.instance)
        // Recorded once the agent has caught up.
        try await waitUntil("the exit in the activity") {
            guard let activity = try await agent.inventory("?kind=activity").rings.first else { return false }
            return try await agent.messages(activity).contains { $0.contains("exited 1 (Error)") }
        }
        // A restarted agent is a new instance: deltas of the old one no longer apply.
        try agent.restart(signal: SIGTERM)
        let fresh = try await agent.inventory("?since_version=\(start.version)")
        #expect(fresh.instance != start.instance)
    }
}
