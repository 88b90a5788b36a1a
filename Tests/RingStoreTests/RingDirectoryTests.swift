import Foundation
import TestSupport
import Testing
@testable import RingStore

@Suite(.timeLimit(.minutes(3))) struct RingDirectoryTests {
    func metadata(tool: String = "demo", name: String = "cron", run: String, segment: Int = 0, finishedAt: Int64? = nil) -> RingMetadata {
        RingMetadata(tool: tool, kind: .scheduled, name: name, run: run, segment: segment, finishedAt: finishedAt)
    }

    @discardableResult
    func finishedRun(_ store: RingDirectory, tool: String = "demo", name: String = "cron", run: String, at time: Int64,
                     segments: Int = 1, bytes: Int = 1000) throws -> [Ring] {
        try (0..<segments).map { segment in
            let ring = try store.create(metadata: metadata(tool: tool, name: name, run: run, segment: segment, finishedAt: time),
                                        prefixCapacity: 4096, suffixCapacity: 8192, now: time)
            try ring.append([.line(timestamp: time, stream: .stdout, flags: [], payload: [UInt8](repeating: 0x61, count: bytes))])
            try ring.finish()
            return ring
        }
    }

    @Test func findsRingsByMetadataAndReopensThem() throws {
        let directory = Scratch("ringstore-test")
        let ids = try {
            let store = try RingDirectory(path: directory.path)
            let a = try finishedRun(store, run: "cron-1", at: 10)
            let b = try finishedRun(store, name: "other", run: "other-1", at: 20)
            #expect(store.rings(matching: RingFilter(tool: "demo", name: "cron")).map(\.id) == a.map(\.id))
            #expect(store.rings(matching: RingFilter(run: "other-1")).map(\.id) == b.map(\.id))
            #expect(store.rings(matching: RingFilter(tool: "nobody")).isEmpty)
            return Set((a + b).map(\.id))
        }()
        let reopened = try RingDirectory(path: directory.path)
        #expect(Set(reopened.rings().map(\.id)) == ids)
        #expect(reopened.rings(matching: RingFilter(finished: true)).count == 2)
    }

    @Test func deleteReallyRemovesTheBytes() throws {
        let directory = Scratch("ringstore-test")
        let store = try RingDirectory(path: directory.path)
        let ring = try finishedRun(store, run: "leaky", at: 1)[0]
        let secret = Array("password=hunter2".utf8)
        let live = try store.create(metadata: metadata(run: "live"), prefixCapacity: 4096, suffixCapacity: 8192, now: 1)
        try live.append([.line(timestamp: 1, stream: .stdout, flags: [], payload: secret)])
        // A reader that still holds the file open must not be able to read the secret back.
        let holder = try RawFile(path: live.path, mode: .readOnly)
        try store.delete(live.id)
        #expect(!FileManager.default.fileExists(atPath: live.path))
        #expect(try holder.allocatedBytes() == 0)
        #expect(throws: RingStoreError.unknownRing(live.id.description)) { try live.read(ReadRequest()) }
        #expect(throws: RingStoreError.unknownRing(live.id.description)) { try store.delete(live.id) }
        #expect(store.rings().map(\.id) == [ring.id])
    }

    @Test func syncsOnlyWhatWasWrittenSinceTheLastSync() throws {
        let directory = Scratch("ringstore-test")
        try {
            let store = try RingDirectory(path: directory.path)
            let runs = try finishedRun(store, run: "cron-1", at: 1) + finishedRun(store, run: "cron-2", at: 2)
            #expect(try store.sync() == 3, "two new rings and the directory's entries")
            #expect(try store.sync() == 0)
            try runs[0].updateMetadata { $0.reason = "Completed" }
            #expect(try store.sync() == 1)
            try store.delete(runs[1].id, durable: false)
            #expect(try store.sync() == 1, "the directory, as a ring went")
            let purged = try finishedRun(store, run: "cron-3", at: 3)[0]
            try store.delete(purged.id)
            #expect(try store.sync() == 0, "a purge syncs the directory's entries before it answers")
        }()
        let reopened = try RingDirectory(path: directory.path)
        #expect(try reopened.sync() == 1, "a reopened ring may have had its uncommitted tail scrubbed")
    }

    @Test func purgesARemovedToolAndNothingElse() throws {
        let directory = Scratch("ringstore-test")
        let store = try RingDirectory(path: directory.path)
        let doomed = try finishedRun(store, tool: "gone", run: "g-1", at: 1, segments: 2)
        let kept = try finishedRun(store, tool: "stays", run: "s-1", at: 1)
        #expect(Set(try store.purge(tool: "gone")) == Set(doomed.map(\.id)))
        #expect(store.rings().map(\.id) == kept.map(\.id))
        for ring in doomed { #expect(!FileManager.default.fileExists(atPath: ring.path)) }
    }

    @Test func keepsTheLastRunsPerJobCountingSegmentsAsOne() throws {
        let directory = Scratch("ringstore-test")
        let store = try RingDirectory(path: directory.path)
        for run in 1...5 { try finishedRun(store, run: "cron-\(run)", at: Int64(run) * 100, segments: run == 5 ? 3 : 1) }
        try finishedRun(store, name: "other", run: "other-1", at: 1)
        let live = try store.create(metadata: metadata(run: "cron-6"), prefixCapacity: 4096, suffixCapacity: 8192, now: 600)
        // The caller learns what goes, once, while all of it is still there.
        var told: [[String]] = []
        let evicted = try store.enforce(RetentionPolicy(budgetBytes: 1 << 40, toolShare: 1, keepRuns: 2), now: 1000) { doomed in
            told.append(doomed.map(\.run))
            #expect(store.rings().count == 9)
        }
        // Oldest first, as every rule evicts.
        #expect(told == [["cron-1", "cron-2", "cron-3"]])
        #expect(evicted.map(\.run) == ["cron-1", "cron-2", "cron-3"])
        #expect(evicted.allSatisfy { $0.reason == .keepRuns })
        let left = Set(store.rings().map(\.metadata.run))
        #expect(left == ["cron-4", "cron-5", "other-1", "cron-6"])
        #expect(store.ring(live.id) != nil)
    }

    @Test func evictsByAgeToolShareAndBudgetButNeverLiveRings() throws {
        let directory = Scratch("ringstore-test")
        let store = try RingDirectory(path: directory.path)
        try finishedRun(store, run: "ancient", at: 1)
        for run in 1...4 { try finishedRun(store, tool: "noisy", run: "n-\(run)", at: 1_000 + Int64(run), bytes: 3000) }
        try finishedRun(store, tool: "quiet", run: "q-1", at: 2_000)
        let live = try store.create(metadata: metadata(tool: "noisy", run: "n-live"), prefixCapacity: 4096, suffixCapacity: 8192, now: 3_000)
        try live.append([.line(timestamp: 3_000, stream: .stdout, flags: [], payload: [UInt8](repeating: 1, count: 6000))])

        let ringBytes = try store.rings().map { try $0.info().diskBytes }.max()!
        let now: Int64 = 1_000_000_000_000
        let policy = RetentionPolicy(budgetBytes: ringBytes * 4, toolShare: 0.5, keepRuns: 10,
                                     maxAge: .nanoseconds(now - 500))
        let evicted = try store.enforce(policy, now: now)
        #expect(evicted.first?.run == "ancient")
        #expect(evicted.first?.reason == .maxAge)
        // noisy holds 5 rings (4 finished + 1 live) against a share of 2: its oldest runs go first.
        #expect(evicted.filter { $0.reason == .toolShare }.map(\.run) == ["n-1", "n-2", "n-3"])
        #expect(store.ring(live.id) != nil)
        let usage = try store.usage(budgetBytes: policy.budgetBytes)
        #expect(usage.usedBytes <= policy.budgetBytes)
        #expect(usage.liveRings == 1)
        #expect(usage.tools.map(\.tool) == ["noisy", "quiet"])
        #expect(usage.tools.first { $0.tool == "noisy" }?.rings == 2)

        // A budget smaller than the live ring alone evicts every finished run, never the live one.
        let all = try store.enforce(RetentionPolicy(budgetBytes: 1, toolShare: 1), now: now)
        #expect(Set(all.map(\.run)) == ["n-4", "q-1"])
        #expect(Set(all.map(\.reason)).isSubset(of: [.toolShare, .budget]))
        #expect(store.rings().map(\.id) == [live.id])
    }

    @Test func usageCountsRolledAndDroppedBytes() throws {
        let directory = Scratch("ringstore-test")
        let store = try RingDirectory(path: directory.path)
        let ring = try store.create(metadata: metadata(run: "r"), prefixCapacity: 0, suffixCapacity: 4096, now: 1)
        for seq in 0..<200 { try ring.append([line(seq, length: 60)]) }
        try ring.append([.drop(timestamp: 300_000, records: 7, bytes: 700, reason: "rate-limited")])
        let usage = try store.usage()
        #expect(usage.rolledBytes > 0)
        #expect(usage.rolledBytes == usage.rings.first?.rolledBytes)
        #expect(usage.droppedBytes == 700)
        #expect(usage.usedBytes <= 4096 + RingFormat.dataOffset + 4096)
    }
}
