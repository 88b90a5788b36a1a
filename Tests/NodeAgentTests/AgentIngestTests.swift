import AgentWire
import Foundation
import LogModel
import Testing
import TestSupport

/// The real agent over a pods directory written the way the kubelet writes it.
@Suite(.timeLimit(.minutes(3))) struct AgentIngestTests {
    @Test func ingestsLinesPartialsAndMalformedInput() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "web-1")
        try log.write("hello")
        try log.write("a long line, first part ", partial: true)
        try log.write("and its end")
        try log.writeRaw("not a CRI line at all\n")
        try log.write("to stderr", stream: "stderr")
        let ring = try await agent.ring(pod: "web-1")
        // A line the runtime split (P, then F) is one item, and counts as one line.
        try await waitUntil("four lines") { try await agent.items(ring).count == 4 }
        let read = try await agent.read(ring)
        let items = try read.map { try $0.decoded() }
        #expect(items.map(\.message) == ["hello", "a long line, first part and its end", "not a CRI line at all", "to stderr"])
        #expect(items.map(\.stream) == ["stdout", "stdout", "other", "stderr"])
        #expect(items.map { $0.partial ?? false } == [false, false, false, false])
        #expect(items[2].datetime! >= items[1].datetime!)  // a malformed line takes the time before it
        #expect(ring.tool == "demo")
        #expect(ring.namespace == "tool-demo")
        // Cursors resume exactly after an item.
        let rest = try await agent.messages(ring, "?after=\(read[1].next)")
        #expect(rest == ["not a CRI line at all", "to stderr"])
        #expect(try await agent.messages(ring, "?stream=stderr") == ["to stderr"])
        #expect(try await agent.messages(ring, "?lines=3") == ["a long line, first part and its end", "not a CRI line at all", "to stderr"])
        #expect(try await agent.messages(ring, "?lines=2&before=\(read[2].seq)") == ["hello", "a long line, first part and its end"])
        #expect(try await agent.messages(ring, "?limit=1&after=\(read[0].next)") == ["a long line, first part and its end"])
        // The split line spans two records: its position after is two past its own.
        #expect(read.map(\.seq) == [0, 1, 3, 4])
        #expect(read.map(\.next) == [1, 3, 4, 5])
        #expect(try await agent.messages(ring, "?grep=line") == ["a long line, first part and its end", "not a CRI line at all"])
        let textHeaders = agent.auth.merging(["Accept": "text/plain"]) { $1 }
        let text = try await agent.get(AgentRoutes.ringLogs(ring.id) + "?lines=1", headers: textHeaders)
        #expect(text.text == "to stderr\n")
        // Text with nothing to count or match is written as it is read, record by record; with
        // a limit, line by line: the same bytes, split lines joined either way.
        for query in ["", "timestamps=true&", "stream=stdout&"] {
            let asRead = try await agent.get(AgentRoutes.ringLogs(ring.id) + "?" + query, headers: textHeaders).text
            let joined = try await agent.get(AgentRoutes.ringLogs(ring.id) + "?\(query)limit=100", headers: textHeaders).text
            #expect(asRead == joined, "\(query)")
            #expect(asRead.components(separatedBy: "\n").contains { $0.hasSuffix("a long line, first part and its end") })
        }
    }

    @Test func survivesRotationAndCopytruncateWithoutLosingOrRepeatingALine() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "rotating")
        var expected: [String] = []
        for round in 0..<6 {
            for index in 0..<50 {
                let line = "round \(round) line \(index)"
                try log.write(line)
                expected.append(line)
            }
            if round == 3 {
                // copytruncate: wait until the agent read it all, then cut the file and go on.
                let ring = try await agent.ring(pod: "rotating")
                let count = expected.count
                try await waitUntil("all lines before copytruncate") { try await agent.items(ring).count == count }
                try log.truncate()
            } else {
                try log.rotate()
            }
        }
        let ring = try await agent.ring(pod: "rotating")
        try await expectEveryLineOnce(expected, of: log, in: ring, agent)
    }

    /// A last line, then the ring must hold exactly what was written: a line read twice (after
    /// a rotation, a truncation or a restart) would have come before it.
    func expectEveryLineOnce(_ expected: [String], of log: PodLogWriter, in ring: AgentRing, _ agent: AgentHarness) async throws {
        try log.write("the last line")
        try await waitUntil("the last line") { try await agent.messages(ring).last == "the last line" }
        #expect(try await agent.messages(ring) == expected + ["the last line"])
    }

    @Test func resumesAfterSigkillWithNoLossAndNoDuplicate() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "steady")
        var expected: [String] = []
        for restart in 0..<5 {
            for index in 0..<200 {
                let line = "restart \(restart) line \(index)"
                try log.write(line)
                expected.append(line)
            }
            if restart == 2 { try log.rotate() }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150)))
            try agent.restart(signal: SIGKILL)
        }
        let ring = try await agent.ring(pod: "steady")
        try await expectEveryLineOnce(expected, of: log, in: ring, agent)
    }

    @Test func followSeesNewLinesAcrossRotationAndEndsWhenTheRunEnds() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "followed")
        try log.write("before")
        let ring = try await agent.ring(pod: "followed")
        let url = agent.base + AgentRoutes.ringLogs(ring.id) + "?follow=true"
        let follow = Task {
            try await TestHTTP.followAgent(url, headers: agent.auth) { items in
                items.contains { (try? $0.decoded().message) == "last" }
            }
        }
        try await waitUntil("the follow") { try await agent.openFollows() == 1 }
        try log.write("during")
        try log.rotate()
        try log.write("after rotation")
        try log.write("last")
        let items = try await follow.value
        let lines = try items.filter { $0.type == .log }.map { try $0.decoded().message }
        #expect(lines == ["before", "during", "after rotation", "last"])
        // Heartbeats come while the ring is quiet (every second here), at the position reached.
        let quiet = try await TestHTTP.followAgent(url + "&after=\(items.last!.next)", headers: agent.auth) { items in
            items.contains { $0.type == .heartbeat }
        }
        #expect(quiet.first?.type == .heartbeat)
        #expect(quiet.first?.next == items.last!.next)
    }

    @Test func overLongLinesAreTruncatedAndFlaggedAndTheNextLineIsIntact() async throws {
        let agent = try AgentHarness(["--max-line-bytes", "1KiB"])
        let log = try agent.writer(pod: "wide")
        try log.write(String(repeating: "a", count: 5000))
        try log.write("after")
        try log.write(String(repeating: "b", count: 300_000))  // longer than a read turn
        try log.write("end")
        let ring = try await agent.ring(pod: "wide")
        try await waitUntil("four lines") { try await agent.items(ring).count == 4 }
        let items = try await agent.items(ring)
        #expect(items.map { $0.truncated ?? false } == [true, false, true, false])
        #expect(items[0].message == String(repeating: "a", count: 1024))
        #expect(items[1].message == "after")
        #expect(items[2].message?.count == 1024)
        #expect(items[3].message == "end")
    }

    @Test func aDeletedPodFinishesItsRunsAndShowsInTheActivity() async throws {
        let agent = try AgentHarness()
        let log = try agent.writer(pod: "oneoff-1")
        try log.write("did the thing")
        let ring = try await agent.ring(pod: "oneoff-1")
        try await waitUntil("the line") { try await agent.items(ring).count == 1 }
        try log.deletePod()
        let finished = try await eventually("the run to finish") {
            try await agent.inventory().rings.first { $0.id == ring.id && $0.state == .finished }
        }
        #expect(finished.finishedAt != nil)
        #expect(try await agent.messages(ring) == ["did the thing"])
        // Events are recorded once the agent has held the first for a moment (`Ingestor.activitySettle`):
        // a run this short can finish before its tool's activity ring exists.
        let activity = try await eventually("the tool's activity ring") { try await agent.inventory("?kind=activity").rings.first }
        try await waitUntil("the deletion in the activity") {
            try await agent.messages(activity).contains { $0.contains("oneoff-1 deleted") }
        }
        // A follow of a finished run ends by itself.
        let items = try await TestHTTP.followAgent(agent.base + AgentRoutes.ringLogs(ring.id) + "?follow=true", headers: agent.auth) { _ in false }
        #expect(try items.map { try $0.decoded().message } == ["did the thing"])
    }

    @Test func aFloodIsRateLimitedWithoutDelayingAQuietContainer() async throws {
        let agent = try AgentHarness(["--rate-bytes", "20KiB", "--burst-bytes", "20KiB"])
        let flood = try agent.writer(pod: "flood")
        let quiet = try agent.writer(pod: "quiet")
        let line = String(repeating: "x", count: 1000)
        for _ in 0..<2000 { try flood.write(line) }
        try quiet.write("still here")
        let quietRing = try await agent.ring(pod: "quiet")
        try await waitUntil("the quiet line", timeout: .seconds(5)) { try await agent.messages(quietRing) == ["still here"] }
        let floodRing = try await agent.ring(pod: "flood")
        try await waitUntil("the flood read to its end") {
            let items = try await agent.items(floodRing)
            let kept = items.filter { $0.type == .log }.count
            let dropped = items.filter { $0.type == .gap }.reduce(0) { $0 + Int($1.records ?? 0) }
            return kept + dropped == 2000
        }
        let items = try await agent.items(floodRing)
        let gaps = items.filter { $0.type == .gap }
        #expect(!gaps.isEmpty)
        #expect(gaps.allSatisfy { $0.reason == "rate-limited" })
        // The burst (20 lines of 1000 bytes) and 20 KiB/s for the second or so the read takes.
        #expect(items.filter { $0.type == .log }.count <= 100)
    }
}
