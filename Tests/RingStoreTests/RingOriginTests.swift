import Testing
@testable import RingStore

/// A ring's origin is typed, and stored under the names every release writes and reads.
@Suite struct RingOriginTests {
    @Test func anOriginIsStoredUnderTheNamesOfEveryRelease() {
        var metadata = RingMetadata(tool: "t", kind: .continuous, name: "web", run: "web-1", extra: ["podUID": "u-1"])
        #expect(metadata.origin == .other)
        metadata.origin = .container(key: "tool-t/web-1/u-1/web/0")
        #expect(metadata.extra == ["podUID": "u-1", "containerKey": "tool-t/web-1/u-1/web/0"])
        #expect(metadata.containerKey == "tool-t/web-1/u-1/web/0")
        #expect(metadata.journalKey == nil)
        metadata.origin = .journal(key: "t/web/r1")
        #expect(metadata.extra == ["podUID": "u-1", "source": "journal", "journalKey": "t/web/r1"])
        #expect(metadata.containerKey == nil)
        // As a release before the type wrote it.
        let older = RingMetadata(tool: "t", kind: .continuous, name: "n", run: "r", extra: ["source": "journal", "journalKey": "t/n/r"])
        #expect(older.origin == .journal(key: "t/n/r"))
    }

    @Test func aJournalRunNeverFolds() {
        let policy = FoldPolicy(after: .seconds(1))
        var metadata = RingMetadata(tool: "t", kind: .scheduled, name: "n", run: "r", finishedAt: 0)
        #expect(policy.isDue(metadata, lastTimestamp: nil, createdAt: 0, now: 10_000_000_000))
        metadata.origin = .journal(key: "t/n/r")
        #expect(!policy.isDue(metadata, lastTimestamp: nil, createdAt: 0, now: 10_000_000_000))
    }
}
