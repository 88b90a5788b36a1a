import AgentWire
import Foundation
import LogModel
import TestSupport
import Testing

/// A real agent folds a scheduled job's finished runs into the job's history file: every run is
/// still listed with its exit code and read line for line, after a SIGKILL too, and a purge of a
/// folded run leaves none of its bytes in the data directory.
@Suite(.timeLimit(.minutes(3))) struct AgentFoldTests {
    static let runs = 30

    func podEntry(_ pod: String, uid: String, run: Int) -> String {
        let exit = run == 7 ? (1, "Error") : (0, "Completed")
        return """
        {"metadata": {"name": "\(pod)", "namespace": "tool-demo", "uid": "\(uid)",
                      "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "tick"},
                      "ownerReferences": [{"kind": "Job", "name": "tick-\(29_000_000 + run)"}]},
         "spec": {"nodeName": "node-1", "containers": [{"name": "job", "image": "tool-demo/tool-demo:latest"}]},
         "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated":
                    {"exitCode": \(exit.0), "reason": "\(exit.1)", "startedAt": "2026-11-22T10:00:00Z", "finishedAt": "2026-11-22T10:00:05Z"}}}]}}
        """
    }

    func lines(of run: Int) -> [String] {
        (0..<20).map { "run \(run) line \($0): GET /api/items/\(($0 * 7919 + run * 31) % 10007) 200 \(($0 * 37 + run) % 997)ms" }
    }

    func ringFiles(_ agent: AgentHarness) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: agent.data).filter { $0.hasSuffix(".ring") }
    }

    @Test func finishedRunsFoldAndStayListedReadableAndPurgeable() async throws {
        let agent = try AgentHarness(["--fold-after", "1s"])
        var entries: [String] = []
        for run in 0..<Self.runs {
            let pod = "tick-\(29_000_000 + run)-x7k2p"
            let log = try agent.writer(pod: pod)
            for line in lines(of: run) { try log.write(line) }
            entries.append(podEntry(pod, uid: log.uid, run: run))
            // Runs a few milliseconds apart, not microseconds: a run index record keeps its
            // times to the microsecond (a job's runs are a minute apart at the least).
            usleep(3_000)
        }
        try "{\"kind\": \"PodList\", \"items\": [\(entries.joined(separator: ","))]}".replace(file: agent.podsJSON)
        let scheduled = "?kind=scheduled"
        try await waitUntil("every run finished and folded") {
            let rings = try await agent.inventory(scheduled).rings
            let unfolded = try ringFiles(agent).count - 1  // the activity's ring is never folded
            return rings.count == Self.runs && rings.allSatisfy { $0.state == .finished } && unfolded == 0
        }
        #expect(FileManager.default.fileExists(atPath: agent.data + "/history"))
        // The folded runs' ring files are gone from the disk, not only from the directory: the
        // agent holds none of them open (it once kept every finished ring's object, and so its
        // file). The fold pass in progress lets go of its rings when it returns, hence the wait.
        func deletedRingsOpen() -> [String] {
            let fds = "/proc/\(agent.process.pid)/fd"
            return ((try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? []).compactMap {
                try? FileManager.default.destinationOfSymbolicLink(atPath: fds + "/" + $0)
            }.filter { $0.hasSuffix(".ring (deleted)") }
        }
        try await waitUntil("no folded ring file held open") { deletedRingsOpen().isEmpty }

        func check() async throws {
            let rings = try await agent.inventory(scheduled).rings
            #expect(rings.count == Self.runs)
            #expect(Set(rings.map(\.run)) == Set((0..<Self.runs).map { "tick-\(29_000_000 + $0)" }))
            let failed = try #require(rings.first { $0.run == "tick-29000007" })
            #expect(failed.exitCode == 1)
            #expect(failed.reason == "Error")
            #expect(try await agent.messages(failed) == lines(of: 7))
            #expect(try await agent.messages(failed, "?lines=3") == Array(lines(of: 7).suffix(3)))
            #expect(rings.filter { $0.exitCode == 0 }.count == Self.runs - 1)
        }
        try await check()
        try agent.restart()
        try await check()

        // Asked by job, as a gateway of this release asks, the inventory names the job and
        // leaves its folded runs out; the node is asked for those a request needs.
        let badListing = try await agent.get(AgentRoutes.rings + "?folded=all")
        #expect(badListing.status == 400)
        #expect(badListing.errors == ["folded: must be by-job, not all"])
        let byJob = try await agent.inventory("?folded=by-job")
        #expect(byJob.foldedJobs == [FoldedJob(tool: "demo", kind: .scheduled, name: "tick")])
        #expect(!byJob.rings.contains { $0.kind == .scheduled })
        let newest = (0..<Self.runs).reversed().map { "tick-\(29_000_000 + $0)" }
        let page = try await agent.get(AgentRoutes.foldedRuns(tool: "demo") + "?kinds=scheduled&name=tick&limit=3").json(FoldedAnswer.self)
        #expect(page.rings.map(\.run) == Array(newest.prefix(3)))
        #expect(page.runs == Self.runs)
        let before = try #require(page.rings.last.map { "&before_started=\($0.startedAt!)&before_run=\($0.run)" })
        let deeper = try await agent.get(AgentRoutes.foldedRuns(tool: "demo") + "?name=tick&limit=3" + before).json(FoldedAnswer.self)
        #expect(deeper.rings.map(\.run) == Array(newest.dropFirst(3).prefix(3)))
        let failedRuns = try await agent.get(AgentRoutes.foldedRuns(tool: "demo") + "?name=tick&state=failed").json(FoldedAnswer.self)
        #expect(failedRuns.rings.map(\.run) == ["tick-29000007"])
        let one = try await agent.get(AgentRoutes.foldedRings(tool: "demo") + "?name=tick&run=tick-29000002").json(FoldedAnswer.self)
        #expect(one.rings.map(\.run) == ["tick-29000002"])
        // The last 2 lines of the job: its newest two runs hold them (a run of 20 records is
        // counted as one line at least, as a line may be 16 records).
        let tail = try await agent.get(AgentRoutes.foldedRings(tool: "demo") + "?name=tick&lines=2&newest_first=true").json(FoldedAnswer.self)
        #expect(Set(tail.rings.map(\.run)) == Set(newest.prefix(2)))
        for bad in ["limit=0", "limit=1002", "state=sad", "kinds=cron", "before_run=x", "colour=red", "lines=-1"] {
            let answer = try await agent.get(AgentRoutes.foldedRuns(tool: "demo") + "?" + bad)
            #expect(answer.status == 400, "\(bad)")
            #expect(!answer.errors.isEmpty, "\(bad)")
        }

        // What operators see: runs kept and folded, per tool, in the stats and in /metrics.
        let stats = try await agent.get(AgentRoutes.stats).json(AgentStats.self)
        let demo = try #require(stats.usage.tools.first { $0.tool == "demo" })
        #expect(demo.runs == Self.runs)
        #expect(demo.foldedRings == Self.runs)
        #expect(stats.usage.foldedRings == Self.runs)
        let metrics = try await agent.get("/metrics", headers: [:]).text
        #expect(metrics.contains("logs_agent_tool_runs{tool=\"demo\"} \(Self.runs)"), "\(metrics)")
        #expect(metrics.contains("logs_agent_folded_rings \(Self.runs)"))

        // A purge of a folded run: gone from listings and reads, after a restart too (the bytes
        // themselves: RingFoldTests, where they are stored raw and can be looked for).
        let doomed = try #require(try await agent.inventory(scheduled).rings.first { $0.run == "tick-29000003" })
        let purge = try await TestHTTP.request(agent.base + AgentRoutes.ring(doomed.id), method: .DELETE, headers: agent.auth)
        #expect(purge.status == 200)
        #expect(try await agent.get(AgentRoutes.ringLogs(doomed.id)).status == 404)
        let runsLeft = try await agent.get(AgentRoutes.foldedRuns(tool: "demo") + "?name=tick")
        #expect(runsLeft.status == 200, "\(runsLeft.text)")
        #expect(try runsLeft.json(FoldedAnswer.self).runs == Self.runs - 1)
        try agent.restart()
        let left = try await agent.inventory(scheduled).rings
        #expect(left.count == Self.runs - 1)
        #expect(!left.contains { $0.id == doomed.id })
    }

    /// An optional cap on runs evicts the oldest, and the operators' view says so by rule.
    @Test func aCapOnRunsEvictsTheOldestAndSaysWhy() async throws {
        let agent = try AgentHarness(["--fold-after", "1s", "--keep-runs", "4", "--retention-interval", "1s"])
        var entries: [String] = []
        for run in 0..<10 {
            let pod = "tick-\(29_000_000 + run)-x7k2p"
            let log = try agent.writer(pod: pod)
            for line in lines(of: run) { try log.write(line) }
            entries.append(podEntry(pod, uid: log.uid, run: run))
        }
        try "{\"kind\": \"PodList\", \"items\": [\(entries.joined(separator: ","))]}".replace(file: agent.podsJSON)
        let stats = try await eventually("six runs evicted") { () -> AgentStats? in
            let stats = try await agent.get(AgentRoutes.stats).json(AgentStats.self)
            return stats.evicted?.first { $0.reason == "keep-runs" }?.runs == 6 ? stats : nil
        }
        #expect(stats.evicted?.first?.bytes ?? 0 > 0)
        #expect(stats.usage.tools.first { $0.tool == "demo" }?.runs == 4)
        #expect(try await agent.inventory("?kind=scheduled").rings.count == 4)
        let metrics = try await agent.get("/metrics", headers: [:]).text
        #expect(metrics.contains("logs_agent_evicted_runs{reason=\"keep-runs\"} 6"), "\(metrics)")

        // The evicted runs' pods, and so their log files, are still on the node: a restarted
        // agent does not read them in again. It reads a new run, and only that: by the time the
        // new run's lines are in, round-robin turns would have read the others too.
        try agent.restart()
        let next = try agent.writer(pod: "tick-29000010-x7k2p")
        for line in lines(of: 10) { try next.write(line) }
        entries.append(podEntry("tick-29000010-x7k2p", uid: next.uid, run: 10))
        try "{\"kind\": \"PodList\", \"items\": [\(entries.joined(separator: ","))]}".replace(file: agent.podsJSON)
        let ring = try await eventually("the new run") { try await agent.inventory("?kind=scheduled").rings.first { $0.run == "tick-29000010" } }
        try await waitUntil("the new run's lines") { try await agent.messages(ring).count == 20 }
        let read = try await agent.get(AgentRoutes.stats).json(AgentStats.self).ingestedBytes
        let size = try FileManager.default.attributesOfItem(atPath: next.path)[.size] as? UInt64
        #expect(read == size, "only the new run was read")
        let kept = Set(try await agent.inventory("?kind=scheduled").rings.map(\.run))
        #expect(kept.isDisjoint(with: (0..<6).map { "tick-\(29_000_000 + $0)" }), "\(kept)")
    }
}
