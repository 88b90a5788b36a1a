import Foundation
import LogModel
import Logging
@testable import NodeAgent
import RingStore
import SystemdSupport
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct JournalIngestTests {
    @Test func entriesLandInOneRingPerToolContainerAndRun() throws {
        let bed = try JournalTestbed()
        let lines = [
            JournalLine(0, tool: "alpha", container: "web", message: "alpha web 0"),
            JournalLine(1, tool: "alpha", container: "worker", message: "alpha worker 1", priority: 3),
            JournalLine(2, tool: "beta", container: "web", message: JournalLine.binary),
            JournalLine(3, tool: nil, container: "web", message: "no tool"),
            JournalLine(4, tool: "Bad_Tool", container: "web", message: "bad tool"),
            JournalLine(5, tool: "alpha", container: "web", message: nil),
            JournalLine(6, tool: "beta", container: "worker", message: "beta worker 6", priority: 4),
            JournalLine(7, tool: "alpha", container: "web", message: "alpha web 7", priority: 0),
        ]
        try bed.write(lines, file: "first")
        let ingest = try bed.ingest()
        ingest.start()
        try bed.wait(for: ingest, entries: 5, skipped: 3)
        ingest.stop()

        #expect(ingest.stats.withLock { $0 } == JournalStats(entries: 5, skipped: 3, rings: 4))
        let rings = try bed.journalRings()
        #expect(Set(rings.keys) == ["alpha/web/web-run1", "alpha/worker/worker-run1", "beta/web/web-run1", "beta/worker/worker-run1"])
        try bed.expectRings(holding: lines)
        let binary = try #require(rings["beta/web/web-run1"]?.records.first)
        #expect(binary.payload == JournalLine.binary)
        #expect(rings["alpha/worker/worker-run1"]?.records.map(\.stream) == [.stderr])
        #expect(rings["alpha/web/web-run1"]?.records.map(\.stream) == [.stdout, .stderr])
        #expect(rings["beta/worker/worker-run1"]?.records.map(\.stream) == [.stdout])

        let metadata = try #require(rings["alpha/worker/worker-run1"]?.ring.metadata)
        #expect(metadata.tool == "alpha")
        #expect(metadata.kind == .continuous)
        #expect(metadata.name == "worker")
        #expect(metadata.run == "worker-run1")
        #expect(metadata.node == "node-1")
        #expect(metadata.origin == .journal(key: "alpha/worker/worker-run1"))
        // Stored under the names every release reads.
        #expect(metadata.extra == ["source": "journal", "journalKey": "alpha/worker/worker-run1"])
    }

    @Test func toolPatternNamesTheToolFromTheContainerName() throws {
        let bed = try JournalTestbed()
        let lines = [
            JournalLine(0, tool: nil, container: "tool-gamma-web", message: "gamma by pattern"),
            JournalLine(1, tool: "delta", container: "tool-gamma-web", message: "the field wins"),
            JournalLine(2, tool: nil, container: "sidecar", message: "no match"),
            JournalLine(3, tool: nil, container: "tool--web-", message: "capture is not a label"),
            JournalLine(4, tool: "delta", container: nil, message: "no container"),
            JournalLine(5, tool: nil, container: "tool-gamma-web", run: nil, message: "no run"),
        ]
        try bed.write(lines, file: "first")
        let configuration = JournalConfiguration(directory: bed.journalDirectory, toolPattern: "^tool-([a-z0-9-]+)-")
        let ingest = try bed.ingest(configuration)
        ingest.start()
        try bed.wait(for: ingest, entries: 4, skipped: 2)
        ingest.stop()

        let rings = try bed.journalRings()
        #expect(rings.mapValues { $0.records.map { String(decoding: $0.payload, as: UTF8.self) } } == [
            "gamma/tool-gamma-web/tool-gamma-web-run1": ["gamma by pattern"],
            "delta/tool-gamma-web/tool-gamma-web-run1": ["the field wins"],
            "delta/journal/journal": ["no container"],
            "gamma/tool-gamma-web/tool-gamma-web": ["no run"],
        ])
        let bare = try #require(rings["delta/journal/journal"]?.ring.metadata)
        #expect((bare.tool, bare.name, bare.run) == ("delta", "journal", "journal"))
    }

    @Test func aPatternWithoutExactlyOneCaptureGroupIsRefused() throws {
        let bed = try JournalTestbed()
        for pattern in ["^tool-[a-z]+-", "^(tool)-([a-z]+)-", "(["] {
            #expect(throws: (any Error).self, "\(pattern)") {
                try bed.ingest(JournalConfiguration(directory: bed.journalDirectory, toolPattern: pattern))
            }
        }
    }

    @Test func followsEntriesWrittenWhileRunning() throws {
        let bed = try JournalTestbed()
        let first = JournalLine.mixed(0..<6)
        try bed.write(first, file: "first")
        let ingest = try bed.ingest()
        ingest.start()
        try bed.wait(for: ingest, entries: 6, skipped: 0)
        let second = JournalLine.mixed(6..<14)
        try bed.write(second, file: "second")
        try bed.wait(for: ingest, entries: 14, skipped: 0)
        ingest.stop()
        try bed.expectRings(holding: first + second)
    }

    /// The journal never says that a container stopped: a run's ring is finished when the
    /// container's next run begins, or when it has been quiet for `idleFinish`. Then retention
    /// can evict it, as any finished run.
    @Test func runsEndWithTheNextRunOrWhenIdleAndRetentionEvictsThem() throws {
        let bed = try JournalTestbed()
        let first = [JournalLine(0, tool: "alpha", container: "web", run: "run1", message: "first run"),
                     JournalLine(1, tool: "alpha", container: "worker", run: "w1", message: "a worker")]
        try bed.write(first, file: "first")
        let ingest = try bed.ingest(JournalConfiguration(directory: bed.journalDirectory, idleFinish: .seconds(2)))
        ingest.start()
        try bed.wait(for: ingest, entries: 2, skipped: 0)
        try bed.write([JournalLine(2, tool: "alpha", container: "web", run: "run2", message: "second run")], file: "second")
        try bed.wait(for: ingest, entries: 3, skipped: 0)
        var rings = try bed.journalRings()
        #expect(rings["alpha/web/run1"]?.ring.isFinished == true)
        #expect(rings["alpha/web/run2"]?.ring.isFinished == false)
        #expect(rings["alpha/worker/w1"]?.ring.isFinished == false)
        // Quiet for longer than idleFinish: finished too.
        let deadline = ContinuousClock.now + .seconds(10)
        while !(try bed.journalRings().values.allSatisfy { $0.ring.isFinished }), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        rings = try bed.journalRings()
        #expect(rings.values.allSatisfy { $0.ring.isFinished }, "\(rings.mapValues { $0.ring.isFinished })")
        #expect(rings.mapValues { $0.records.count } == ["alpha/web/run1": 1, "alpha/web/run2": 1, "alpha/worker/w1": 1])
        ingest.stop()
        // A restart with every run finished takes nothing again; a late entry of a finished run
        // is a new segment of it, and ends no other run.
        let again = try bed.ingest(JournalConfiguration(directory: bed.journalDirectory, idleFinish: .seconds(60)))
        again.start()
        defer { again.stop() }
        try bed.write([JournalLine(3, tool: "alpha", container: "web", run: "run1", message: "late")], file: "third")
        try bed.wait(for: again, entries: 1, skipped: 0)
        let segments = bed.store.rings().filter { $0.metadata.run == "run1" }
        #expect(segments.map(\.metadata.segment).sorted() == [0, 1])
        #expect(try segments.map { try $0.read(ReadRequest()).records.count }.sorted() == [1, 1])
        #expect(bed.store.rings().count == 4)
        #expect(bed.store.rings().filter { !$0.isFinished }.map(\.metadata.run) == ["run1"])
        // Evicted (whole finished runs: run1 has a live segment), they are not read again
        // either: the read position is kept beside the rings.
        let evicted = try bed.store.enforce(RetentionPolicy(budgetBytes: 0), now: NanoTime.now())
        #expect(Set(evicted.map(\.run)) == ["run2", "w1"])
        again.stop()
        let afterEviction = try bed.ingest()
        afterEviction.start()
        defer { afterEviction.stop() }
        try bed.write([JournalLine(4, tool: "alpha", container: "worker", run: "w2", message: "new run")], file: "fourth")
        try bed.wait(for: afterEviction, entries: 1, skipped: 0)
        #expect(Set(bed.store.rings().map(\.metadata.run)) == ["run1", "w2"])
    }

    @Test func aRestartAddsOnlyTheNewEntries() throws {
        let bed = try JournalTestbed()
        let first = JournalLine.mixed(0..<10)
        try bed.write(first, file: "first")
        let before = try bed.ingest()
        before.start()
        try bed.wait(for: before, entries: 10, skipped: 0)
        before.stop()

        let second = JournalLine.mixed(10..<22) + [JournalLine(22, tool: "epsilon", container: "new", message: "a new ring")]
        try bed.write(second, file: "second")
        let after = try bed.ingest()
        after.start()
        try bed.wait(for: after, entries: 13, skipped: 0)
        after.stop()

        #expect(after.stats.withLock { $0 } == JournalStats(entries: 13, skipped: 0, rings: 5))
        try bed.expectRings(holding: first + second)
    }

    /// The state a SIGKILL can leave: rings A and B took part of the new entries (A all of its
    /// own, B its first, in an earlier batch), C and D none, no ring's position was moved up at
    /// a clean stop, and of two new rings E got the batch's start as its position and F not yet.
    @Test func aRestartAfterAKillInTheMiddleOfABatchLosesAndRepeatsNothing() throws {
        let bed = try JournalTestbed()
        let first = JournalLine.mixed(0..<12)
        try bed.write(first, file: "first")
        let before = try bed.ingest()
        before.start()
        try bed.wait(for: before, entries: 12, skipped: 0)
        before.stop()

        let (a, b, c, d) = (("alpha", "web"), ("alpha", "worker"), ("beta", "web"), ("beta", "worker"))
        let (e, f) = (("epsilon", "e"), ("epsilon", "f"))
        let second = [
            JournalLine(20, tool: b.0, container: b.1, message: "B1"),
            JournalLine(21, tool: e.0, container: e.1, message: "E1"),
            JournalLine(22, tool: a.0, container: a.1, message: "A1"),
            JournalLine(23, tool: c.0, container: c.1, message: "C1"),
            JournalLine(24, tool: f.0, container: f.1, message: "F1"),
            JournalLine(25, tool: nil, container: "web", message: "no tool"),
            JournalLine(26, tool: b.0, container: b.1, message: "B2"),
            JournalLine(27, tool: a.0, container: a.1, message: "A2"),
            JournalLine(28, tool: d.0, container: d.1, message: "D1"),
            JournalLine(29, tool: c.0, container: c.1, message: "C2"),
            JournalLine(30, tool: e.0, container: e.1, message: "E2"),
        ]
        try bed.write(second, file: "second")
        let entries = try bed.journalEntries()
        func entry(_ index: Int) -> JournalEntry { entries.first { $0.realtime == JournalLine.realtime(index) }! }
        for (_, held) in try bed.journalRings() {
            let last = try #require(held.records.last)
            let entry = try #require(entries.first { $0.realtime * 1000 == UInt64(last.timestamp) })
            try held.ring.append([], sourcePosition: JournalPosition(entry).encoded)
        }
        func ring(_ ring: (String, String)) throws -> Ring {
            let key = "\(ring.0)/\(ring.1)/\(ring.1)-run1"
            if let held = try bed.journalRings()[key] { return held.ring }
            let route = JournalRoute(tool: ring.0, name: ring.1, run: "\(ring.1)-run1")
            return try bed.store.create(metadata: route.metadata(node: "node-1", startedAt: 0), prefixCapacity: 65536,
                                        suffixCapacity: 65536, now: 0)
        }
        func appendBeforeTheKill(_ indices: [Int], to target: (String, String)) throws {
            let taken = indices.map(entry)
            try ring(target).append(taken.map { JournalMapper.record($0)! }, sourcePosition: JournalPosition(taken.last!).encoded)
        }
        try appendBeforeTheKill([22, 27], to: a)
        try appendBeforeTheKill([20], to: b)
        try ring(e).append([], sourcePosition: JournalPosition(entry(20)).encoded)
        _ = try ring(f)

        let after = try bed.ingest()
        after.start()
        try bed.wait(for: after, entries: 7, skipped: 1)
        after.stop()
        #expect(after.stats.withLock { $0 } == JournalStats(entries: 7, skipped: 1, rings: 6))
        try bed.expectRings(holding: first + second)
    }

    /// A ring whose last entry was vacuumed resumes by realtime: what it holds is at or before.
    @Test func aVanishedCursorFallsBackToRealtime() throws {
        let bed = try JournalTestbed()
        let first = JournalLine.mixed(0..<8)
        try bed.write(first, file: "first")
        let before = try bed.ingest()
        before.start()
        try bed.wait(for: before, entries: 8, skipped: 0)
        before.stop()

        // The same place, in a journal file that no longer exists.
        let ring = try #require(bed.journalRings()["alpha/web/web-run1"]?.ring)
        let last = try #require(try ring.read(ReadRequest()).records.last)
        let entry = try #require(try bed.journalEntries().first { $0.realtime * 1000 == UInt64(last.timestamp) })
        let gone = entry.cursor.split(separator: ";").map { $0.hasPrefix("s=") ? "s=" + String(repeating: "f", count: 32) : String($0) }
            .joined(separator: ";")
        #expect(gone != entry.cursor)
        try ring.append([], sourcePosition: JournalPosition(realtime: entry.realtime, cursor: gone).encoded)

        let second = JournalLine.mixed(8..<16)
        try bed.write(second, file: "second")
        let after = try bed.ingest()
        after.start()
        try bed.wait(for: after, entries: 8, skipped: 0)
        after.stop()
        try bed.expectRings(holding: first + second)
    }
}

// MARK: - Fixture

/// One entry of a test journal, `index` seconds after the first.
struct JournalLine {
    var index: Int
    var tool: String?
    var container: String?
    var run: String?
    var message: [UInt8]?
    var priority: Int

    static let binary: [UInt8] = [0x00, 0xff, 0xfe, 0x0a, 0x3d] + Array("not UTF-8".utf8)

    init(_ index: Int, tool: String?, container: String?, run: String? = "", message: [UInt8]?, priority: Int = 6) {
        self.index = index
        self.tool = tool
        self.container = container
        self.run = run == "" ? container.map { "\($0)-run1" } : run
        self.message = message
        self.priority = priority
    }

    init(_ index: Int, tool: String?, container: String?, run: String? = "", message: String, priority: Int = 6) {
        self.init(index, tool: tool, container: container, run: run, message: Array(message.utf8), priority: priority)
    }

    /// Entries of two tools and two containers each, in turn.
    static func mixed(_ indices: Range<Int>) -> [JournalLine] {
        indices.map { index in
            let tool = ["alpha", "beta"][index / 2 % 2]
            let container = ["web", "worker"][index % 2]
            return JournalLine(index, tool: tool, container: container, message: "\(tool) \(container) line \(index)",
                               priority: index % 3 == 0 ? 3 : 6)
        }
    }

    static func realtime(_ index: Int) -> UInt64 { 1_700_000_000_000_000 + UInt64(index) * 1_000_000 }

    /// The ring this line belongs to, by `journalKey`, as the default configuration maps it.
    var key: String? {
        guard let tool, message != nil, NameRules.isLabel(tool) else { return nil }
        let name = container ?? "journal"
        return "\(tool)/\(name)/\(run ?? name)"
    }

    var exported: JournalExportEntry {
        var fields: [(name: String, value: [UInt8])] = [
            ("__REALTIME_TIMESTAMP", Array("\(JournalLine.realtime(index))".utf8)),
            ("__MONOTONIC_TIMESTAMP", Array("\(5_000_000 + index * 1_000_000)".utf8)),
            ("_BOOT_ID", Array("0123456789abcdef0123456789abcdef".utf8)),
            ("PRIORITY", Array("\(priority)".utf8)),
        ]
        if let message { fields.append(("MESSAGE", message)) }
        if let tool { fields.append(("TOOLFORGE_TOOL", Array(tool.utf8))) }
        if let container { fields.append(("CONTAINER_NAME", Array(container.utf8))) }
        if let run { fields.append(("CONTAINER_ID", Array(run.utf8))) }
        return JournalExportEntry(fields)
    }
}

/// A journal directory and a ring store in a temporary directory, removed at the end.
final class JournalTestbed {
    let scratch = Scratch("journal-ingest")
    let store: RingDirectory
    let inventory = Inventory(instance: "test")

    var root: String { scratch.path }
    var journalDirectory: String { root + "/journal" }

    init() throws {
        try FileManager.default.createDirectory(atPath: scratch.file("journal"), withIntermediateDirectories: true)
        store = try RingDirectory(path: scratch.file("data"))
    }

    func ingest(_ configuration: JournalConfiguration? = nil) throws -> JournalIngest {
        try JournalIngest(configuration: configuration ?? JournalConfiguration(directory: journalDirectory), store: store,
                          node: "node-1", capacities: RingCapacities(prefix: 64 * 1024, suffix: 64 * 1024),
                          inventory: inventory, health: AgentHealth(), logger: Logger(label: "journal-test"))
    }

    /// Writes `lines` into a real journal file `<file>.journal` (written aside, then renamed
    /// in, so that a running reader never sees it half written).
    func write(_ lines: [JournalLine], file: String) throws {
        let temporary = root + "/\(file).journal"
        try JournalExport.write(lines.map(\.exported), to: temporary)
        try FileManager.default.moveItem(atPath: temporary, toPath: journalDirectory + "/\(file).journal")
    }

    /// Every entry of the journal directory, as a reader sees them.
    func journalEntries() throws -> [JournalEntry] {
        let reader = try JournalReader(directory: journalDirectory)
        var entries: [JournalEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    /// Polls until the ingest has taken exactly these counts, for at most ten seconds.
    func wait(for ingest: JournalIngest, entries: UInt64, skipped: UInt64) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var stats = ingest.stats.withLock { $0 }
        while (stats.entries, stats.skipped) != (entries, skipped), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            stats = ingest.stats.withLock { $0 }
        }
        try #require(stats.entries == entries && stats.skipped == skipped, "\(stats)")
    }

    /// The store's journal rings and their records, by `journalKey`.
    func journalRings() throws -> [String: (ring: Ring, records: [LogRecord])] {
        var rings: [String: (ring: Ring, records: [LogRecord])] = [:]
        for ring in store.rings() {
            guard let key = ring.metadata.journalKey else { continue }
            #expect(rings[key] == nil, "two rings for \(key)")
            rings[key] = (ring, try ring.read(ReadRequest()).records)
        }
        return rings
    }

    /// Each line that names a tool is in its ring exactly once, in order, with its bytes, time
    /// and stream, and the rings hold nothing else.
    func expectRings(holding lines: [JournalLine]) throws {
        let held = try journalRings()
        let expected = Dictionary(grouping: lines.filter { $0.key != nil }, by: { $0.key! })
        #expect(Set(held.keys) == Set(expected.keys))
        for (key, lines) in expected {
            let records = held[key]?.records ?? []
            #expect(records.map(\.payload) == lines.map { $0.message! }, "\(key)")
            #expect(records.map(\.timestamp) == lines.map { Int64(JournalLine.realtime($0.index)) * 1000 }, "\(key)")
            #expect(records.map(\.stream) == lines.map { $0.priority <= 3 ? LogStream.stderr : .stdout }, "\(key)")
            #expect(records.allSatisfy { $0.flags.isEmpty }, "\(key)")
        }
    }
}
