import Foundation
import TestSupport
import Testing
@testable import RingStore

/// Finished runs folded into their job's history file (docs/ring-format.md, "History files"):
/// read as they were, by the same cursors, across reopening, purged for good, evicted oldest first.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RingFoldTests {
    static let now: Int64 = 1_000_000_000_000
    let fold = FoldPolicy(after: .zero)

    func metadata(tool: String = "demo", name: String = "tick", run: String, exitCode: Int32? = 0) -> RingMetadata {
        var metadata = RingMetadata(tool: tool, kind: .scheduled, name: name, run: run, finishedAt: Self.now - 1)
        metadata.exitCode = exitCode
        return metadata
    }

    /// A finished run of `lines` varied lines (an access log's shape: numbers and paths change).
    @discardableResult
    func finishedRun(_ store: RingDirectory, tool: String = "demo", name: String = "tick", run: String, lines: Int = 20,
                     prefix: UInt64 = 4096, suffix: UInt64 = 65536, text: (Int) -> String = { i in
                         "2026-12-06 10:\(i % 60):\(i * 7 % 60) GET /api/v1/items/\(i * 7919 % 10007) 200 \(i * 31 % 997)ms user=u\(i * 13 % 101)"
                     }) throws -> Ring {
        let ring = try store.create(metadata: metadata(tool: tool, name: name, run: run), prefixCapacity: prefix,
                                    suffixCapacity: suffix, now: 1)
        try ring.append((0..<lines).map { .line(timestamp: Int64($0) * 1_000_000, stream: $0 % 5 == 0 ? .stderr : .stdout,
                                                flags: [], payload: Array(text($0).utf8)) })
        try ring.finish()
        return ring
    }

    func readAll(_ ring: Ring, _ request: ReadRequest = ReadRequest()) throws -> [ReadItem] { try ring.read(request).items }

    /// The history files in a data directory, without their run indexes.
    func histories(_ directory: Scratch) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.file("history")).filter { $0.hasSuffix(".hist") }.sorted()
    }

    func diskBytes(_ directory: String) throws -> UInt64 {
        var total: UInt64 = 0
        for path in try FileManager.default.subpathsOfDirectory(atPath: directory) {
            var info = stat()
            guard stat(directory + "/" + path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            total += UInt64(info.st_blocks) * 512
        }
        return total
    }

    @Test func aFoldedRunReadsAsItDidWithItsGapCursorsAndTimes() throws {
        let directory = Scratch("ringstore-fold")
        let requests = [ReadRequest(), ReadRequest(start: .seq(2900), maxItems: 7), ReadRequest(start: .last(5)),
                        ReadRequest(start: .time(2_950_000_000)), ReadRequest(start: .last(3), streams: [.stderr]),
                        ReadRequest(start: .beginning, maxItems: 4)]
        let (ring, before) = try {
            let store = try RingDirectory(path: directory.path)
            // Enough lines to roll the suffix over: the folded run keeps its prefix, gap and suffix.
            let ring = try finishedRun(store, run: "big", lines: 3000, prefix: 4096, suffix: 16384)
            let before = try requests.map { try readAll(ring, $0) }
            #expect(before[0].contains { if case let .gap(gap) = $0 { gap.reason == .rolledOver } else { false } })

            let folded = try store.fold(fold, now: Self.now)
            #expect(folded == [ring.id])
            #expect(!FileManager.default.fileExists(atPath: ring.path))
            let served = try #require(store.ring(ring.id))
            #expect(served.folded != nil)
            #expect(try requests.map { try readAll(served, $0) } == before)
            #expect(served.metadata == ring.metadata)
            #expect(try store.fold(fold, now: Self.now).isEmpty, "folding again finds nothing to do")
            // A reader that held the ring file's object before the fold reads it still.
            #expect(try requests.map { try readAll(ring, $0) } == before)
            return (ring, before)
        }()

        let reopened = try RingDirectory(path: directory.path)
        let again = try #require(reopened.ring(ring.id))
        #expect(try requests.map { try readAll(again, $0) } == before)
        #expect(try again.info().counters == (try ring.info()).counters)
    }

    @Test func smallRunsCostAboutTheirCompressedBytes() throws {
        let directory = Scratch("ringstore-fold")
        let store = try RingDirectory(path: directory.path)
        for run in 0..<200 { try finishedRun(store, run: "tick-\(run)") }
        let unfolded = try diskBytes(directory.path)
        #expect(try store.fold(fold, now: Self.now).count == 200)
        let folded = try diskBytes(directory.path)
        // 20 lines of about 70 bytes: 1.4 KB of text. Two ring files per KiB of history before.
        #expect(folded / 200 <= 2048, "\(folded / 200) bytes a run folded, \(unfolded / 200) as ring files")
        #expect(folded * 5 < unfolded)
        #expect(store.rings().count == 200)
    }

    @Test func aPurgedFoldedRunLeavesNoByteOfItBehind() throws {
        let directory = Scratch("ringstore-fold")
        try {
            let store = try RingDirectory(path: directory.path)
            try finishedRun(store, run: "before")
            let leaky = try finishedRun(store, run: "leaky", text: { $0 == 7 ? "password=hunter2" : "line \($0)" })
            try finishedRun(store, run: "after")
            // The run's blocks as they are stored (compressed): what must not stay on disk.
            let stored = Data(try #require(try leaky.foldImage(maxBytes: .max)).prefix)
            try store.fold(fold, now: Self.now)
            let history = try #require(try histories(directory).first)
            let holds = { try Data(contentsOf: URL(fileURLWithPath: directory.file("history/\(history)"))).range(of: stored) != nil }
            #expect(try holds(), "the folded run's blocks are in the history, byte for byte")
            // A reader that took the folded run before the purge learns it is gone.
            let held = try #require(store.ring(leaky.id))

            try store.delete(leaky.id)
            #expect(try !holds())
            #expect(store.ring(leaky.id) == nil)
            #expect(held.isDeleted)
            #expect(throws: RingStoreError.self) { try held.read(ReadRequest()) }
            #expect(Set(store.rings().map(\.metadata.run)) == ["before", "after"])
        }()
        let reopened = try RingDirectory(path: directory.path)
        #expect(Set(reopened.rings().map(\.metadata.run)) == ["before", "after"])
        for ring in reopened.rings() { #expect(try ring.read(ReadRequest()).records.count == 20) }
    }

    @Test func aCrashAtAnyStepOfAFoldShowsEachRunOnce() throws {
        let directory = Scratch("ringstore-fold")
        let saved = Scratch("ringstore-fold-saved")
        var expected: [RingID: [ReadItem]] = [:]
        try {
            let store = try RingDirectory(path: directory.path)
            let first = try finishedRun(store, run: "first")
            try store.fold(fold, now: Self.now)
            expected[first.id] = try readAll(store.ring(first.id)!)
            let second = try finishedRun(store, run: "second")
            expected[second.id] = try readAll(second)
            // What the disk held before the second fold: its ring file, and the history's header
            // and checkpoint pages (which a crash before the commit leaves as they were).
            try FileManager.default.copyItem(atPath: second.path, toPath: saved.file("second.ring"))
            let history = try histories(directory)[0]
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("history/\(history)")))
            try Data(handle.read(upToCount: 8192)!).write(to: URL(fileURLWithPath: saved.file("pages")))
            try store.fold(fold, now: Self.now)
            #expect(!FileManager.default.fileExists(atPath: second.path))
        }()
        let history = directory.file("history/" + (try histories(directory)[0]))

        // Committed, but the ring file not yet removed: the history's copy is the one served.
        func restoreRingFile() throws -> String {
            let id = try Ring.open(path: saved.file("second.ring"), writable: false).id
            let path = directory.file("\(id).ring")
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: saved.file("second.ring"), toPath: path)
            return path
        }
        let secondPath = try restoreRingFile()
        try {
            let store = try RingDirectory(path: directory.path)
            #expect(store.rings().count == 2)
            #expect(!FileManager.default.fileExists(atPath: secondPath), "the ring file of a folded run is removed on open")
            for (id, items) in expected { #expect(try readAll(store.ring(id)!) == items) }
        }()

        // Appended but not committed (the old checkpoint): the ring file is what holds the run.
        _ = try restoreRingFile()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: history))
        try handle.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: saved.file("pages"))))
        try handle.close()
        try {
            let store = try RingDirectory(path: directory.path)
            #expect(store.rings().count == 2)
            #expect(FileManager.default.fileExists(atPath: secondPath))
            for (id, items) in expected { #expect(try readAll(store.ring(id)!) == items) }
            // And it folds again, once.
            #expect(try store.fold(fold, now: Self.now).count == 1)
            for (id, items) in expected { #expect(try readAll(store.ring(id)!) == items) }
        }()
        let store = try RingDirectory(path: directory.path)
        #expect(store.rings().count == 2)
        #expect(store.rings().allSatisfy { $0.folded != nil })
    }

    @Test func retentionEvictsFoldedRunsOldestFirstAndGivesTheSpaceBack() throws {
        let directory = Scratch("ringstore-fold")
        try {
            let store = try RingDirectory(path: directory.path)
            for run in 0..<60 {
                let ring = try store.create(metadata: RingMetadata(tool: "demo", kind: .scheduled, name: "tick", run: String(format: "tick-%03d", run),
                                                                   finishedAt: Int64(run) * 1_000),
                                            prefixCapacity: 4096, suffixCapacity: 65536, now: 1)
                try ring.append((0..<40).map { _ in .line(timestamp: Int64(run) * 1_000, stream: .stdout, flags: [], payload: Array(UUID().uuidString.utf8)) })
                try ring.finish()
            }
            try store.fold(fold, now: Self.now)
            let perRun = try store.rings()[0].info().diskBytes
            let before = try diskBytes(directory.path)
            // No cap on runs by default: only bytes decide. A budget for about 20 runs keeps the newest 20.
            let evicted = try store.enforce(RetentionPolicy(budgetBytes: perRun * 20 + perRun / 2, toolShare: 1), now: Self.now)
            #expect(evicted.map(\.run) == (0..<40).map { String(format: "tick-%03d", $0) })
            // One tool, whose share is the whole budget: its share's rule is the one that evicts.
            #expect(evicted.allSatisfy { $0.reason == .toolShare })
            #expect(Set(store.rings().map(\.metadata.run)) == Set((40..<60).map { String(format: "tick-%03d", $0) }))
            try store.sync()
            let after = try diskBytes(directory.path)
            // The history's 8 KiB header and the index's first page stay.
            #expect(after < before / 2 + 12 * 1024, "the front of the history is given back: \(before) -> \(after)")
        }()
        let reopened = try RingDirectory(path: directory.path)
        #expect(reopened.rings().count == 20)
        for ring in reopened.rings() { #expect(try ring.read(ReadRequest()).records.count == 40) }

        // The last runs go, and with them the history file.
        try reopened.enforce(RetentionPolicy(budgetBytes: 0, toolShare: 1), now: Self.now)
        #expect(reopened.rings().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("history")).isEmpty)
    }

    @Test func theRunIndexGivesBackItsFrontAndStillOpens() throws {
        let directory = Scratch("ringstore-fold")
        let kept = try {
            let store = try RingDirectory(path: directory.path)
            for run in 0..<300 { try finishedRun(store, run: String(format: "tick-%04d", run), lines: 1) }
            try store.fold(fold, now: Self.now)
            try store.enforce(RetentionPolicy(budgetBytes: 1 << 40, toolShare: 1, keepRuns: 20), now: Self.now)
            try store.sync()
            return Set(store.rings().map(\.id))
        }()
        #expect(kept.count == 20)
        let index = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.file("history")).first { $0.hasSuffix(".runs") })
        var info = stat()
        #expect(stat(directory.file("history/" + index), &info) == 0)
        // 300 records of about 96 bytes: 28 KiB; the last 20 and the header's page are what stays.
        #expect(info.st_blocks * 512 <= 12 * 1024, "\(info.st_blocks * 512) bytes allocated")
        let reopened = try RingDirectory(path: directory.path)
        #expect(reopened.problems.isEmpty)
        #expect(reopened.indexedAtOpen.isEmpty, "the index is read past the pages given back, not rebuilt")
        #expect(Set(reopened.rings().map(\.id)) == kept)
        #expect(try reopened.foldedRuns().map(\.run) == (280..<300).map { String(format: "tick-%04d", $0) })
    }

    @Test func aFoldedSegmentOfARunStillLiveIsNotEvicted() throws {
        let directory = Scratch("ringstore-fold")
        let store = try RingDirectory(path: directory.path)
        // The oldest folded segment is of a run still live (a pod's container restarted): it is
        // all its history holds, and retention must go on to another job's runs, not stop at it.
        let retried = try finishedRun(store, run: "tick-0")
        try store.fold(fold, now: Self.now)
        // Another tool's run, folded after it and ended at the same time: retention looks at
        // tick's history first. The node is over its budget by a byte; neither tool over its share.
        let other = try finishedRun(store, tool: "other", name: "tock", run: "tock-1")
        try store.fold(fold, now: Self.now)
        let folded = try store.usage().usedBytes
        let live = try store.create(metadata: metadata(run: "tick-0"), prefixCapacity: 4096, suffixCapacity: 65536, now: 1)
        try live.append([.line(timestamp: 5, stream: .stdout, flags: [], payload: Array("restarted".utf8))])
        let liveBytes = try live.info().diskBytes
        let evicted = try store.enforce(RetentionPolicy(budgetBytes: folded + liveBytes - 1, toolShare: 1), now: Self.now)
        #expect(evicted.flatMap(\.rings) == [other.id])
        #expect(store.ring(retried.id)?.folded != nil)
        #expect(store.ring(live.id) != nil)
        // Counted as runs that may go, the kept segment is not: a cap of one leaves the rest.
        #expect(try store.enforce(RetentionPolicy(budgetBytes: 1 << 40, toolShare: 1, keepRuns: 1), now: Self.now).isEmpty)
    }

    @Test func liveRingsBigRunsAndCustomSourcesKeepTheirRingFiles() throws {
        let directory = Scratch("ringstore-fold")
        let store = try RingDirectory(path: directory.path)
        let live = try store.create(metadata: metadata(run: "live"), prefixCapacity: 4096, suffixCapacity: 65536, now: 1)
        try live.append([line(1)])
        let big = try finishedRun(store, run: "big", lines: 20, text: { _ in UUID().uuidString + UUID().uuidString })
        let custom = try store.create(metadata: RingMetadata(tool: "demo", kind: .custom, name: "deploys", run: "deploys"),
                                      prefixCapacity: 4096, suffixCapacity: 65536, now: 1)
        try custom.finish()
        #expect(try store.fold(FoldPolicy(after: .zero, maxBytes: 512), now: Self.now).isEmpty)
        for ring in [live, big, custom] {
            #expect(store.ring(ring.id)?.folded == nil)
            #expect(FileManager.default.fileExists(atPath: ring.path))
        }
        // Not yet finished for `after`: waits.
        #expect(try store.fold(FoldPolicy(after: .seconds(60)), now: Self.now).isEmpty)
        #expect(try store.fold(fold, now: Self.now) == [big.id])
    }

    /// Three folded runs, the second's entry header damaged (a byte of its ring id flipped,
    /// under its checksum); returns each run's items and the damaged run's id.
    func historyWithADamagedEntry(_ directory: Scratch) throws -> (runs: [RingID: [ReadItem]], damaged: RingID) {
        var runs: [RingID: [ReadItem]] = [:]
        try {
            let store = try RingDirectory(path: directory.path)
            for run in 0..<3 {
                let ring = try finishedRun(store, run: "tick-\(run)")
                runs[ring.id] = try readAll(ring)
            }
            try store.fold(fold, now: Self.now)
        }()
        let history = directory.file("history/" + (try histories(directory)[0]))
        let second = try {
            let store = try RingDirectory(path: directory.path)
            return try #require(store.rings().compactMap { ring in ring.folded.map { ($0.offset, ring.id) } }.sorted { $0.0 < $1.0 }.dropFirst().first)
        }()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: history))
        try handle.seek(toOffset: second.0 + 20)
        try handle.write(contentsOf: Data([0xff]))
        try handle.close()
        return (runs, second.1)
    }

    @Test func aDamagedEntryCostsOnlyItsRun() throws {
        let directory = Scratch("ringstore-fold")
        let (runs, damaged) = try historyWithADamagedEntry(directory)
        let store = try RingDirectory(path: directory.path)
        // The index vouches for the entries at start; the damage is found when the run is read.
        #expect(store.problems.isEmpty)
        #expect(store.ring(damaged) == nil)
        #expect(store.rings().count == 2, "the runs before and after the damaged entry")
        for ring in store.rings() { #expect(try readAll(ring) == runs[ring.id]) }
        // Runs after it are reached through their records: the history takes new runs.
        let next = try {
            let next = try finishedRun(store, run: "tick-3")
            try store.fold(fold, now: Self.now)
            return next.id
        }()
        #expect(try histories(directory).count == 1)
        _ = consume store
        #expect(try RingDirectory(path: directory.path).ring(next)?.folded != nil)
    }

    @Test func aLostIndexIsRebuiltFromTheEntriesAndDamageThenStopsAppends() throws {
        let directory = Scratch("ringstore-fold")
        let (runs, damaged) = try historyWithADamagedEntry(directory)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.file("history")) where name.hasSuffix(".runs") {
            try FileManager.default.removeItem(atPath: directory.file("history/" + name))
        }
        // A release before the index removes an emptied history and leaves its index behind.
        let orphan = directory.file("history/\(UUID().uuidString.lowercased()).runs")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: orphan))
        let next = try {
            let store = try RingDirectory(path: directory.path)
            #expect(!FileManager.default.fileExists(atPath: orphan))
            #expect(store.problems.count == 1, "\(store.problems)")
            #expect(store.ring(damaged) == nil)
            #expect(store.rings().count == 2, "the runs before and after the damaged entry")
            for ring in store.rings() { #expect(try readAll(ring) == runs[ring.id]) }
            let next = try finishedRun(store, run: "tick-3")
            try store.fold(fold, now: Self.now)
            return next.id
        }()
        #expect(try histories(directory).count == 2, "never appended to past damage found by a walk")
        let reopened = try RingDirectory(path: directory.path)
        #expect(reopened.problems.isEmpty, "the rebuilt index vouches for the entries now")
        #expect(reopened.rings().count == 3)
        #expect(reopened.ring(next)?.folded != nil)
    }
}
