import TestSupport
import Testing
@testable import RingStore

@Suite(.timeLimit(.minutes(3))) struct RingBasicsTests {
    @Test func appendsAndReadsBackInOrder() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 64 * 1024)
        let seqs = try ring.append((0..<10).map { line($0) }, sourcePosition: [1, 2, 3])
        #expect(seqs == 0..<10)
        let result = try ring.read(ReadRequest())
        #expect(result.records.map(\.payload) == (0..<10).map { payload($0) })
        #expect(result.records.map(\.seq) == Array(0..<10))
        #expect(result.gaps.isEmpty)
        #expect(result.next == 10)
        #expect(result.end == .caughtUp)
        #expect(!result.finished)
        #expect(ring.sourcePosition == [1, 2, 3])
    }

    @Test func survivesReopen() throws {
        let directory = Scratch("ringstore-test")
        let path: String
        do {
            let ring = try makeRing(in: directory, prefix: 256, suffix: 4096)
            path = ring.path
            for batch in 0..<20 {
                try ring.append((0..<10).map { line(batch * 10 + $0) }, sourcePosition: Array("pos-\(batch)".utf8))
            }
        }
        let reopened = try Ring.open(path: path, writable: true)
        #expect(reopened.sourcePosition == Array("pos-19".utf8))
        #expect(reopened.metadata == testMetadata)
        let before = try reopened.read(ReadRequest())
        try reopened.append([line(200)])
        let after = try reopened.read(ReadRequest())
        #expect(after.records.last?.seq == 200)
        #expect(after.records.last?.payload == payload(200))
        // The new record may roll the oldest suffix records over; nothing else changes.
        let kept = Array(after.records.dropLast())
        #expect(kept == before.records.filter { kept.contains($0) })
        #expect(kept.count >= before.records.count - 2)
    }

    @Test func rollsOverWithOneGapBetweenPrefixAndSuffix() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 512, suffix: 4096)
        for seq in 0..<1000 { try ring.append([line(seq, length: 40)]) }
        let result = try ring.read(ReadRequest())
        let records = result.records
        #expect(result.gaps.count == 1)
        let gap = try #require(result.gaps.first)
        #expect(gap.reason == .rolledOver)
        // The prefix is the very first records, the suffix the very last ones.
        let prefix = records.prefix { $0.seq < gap.seq }
        let suffix = records.drop { $0.seq < gap.seq }
        #expect(prefix.map(\.seq) == Array(0..<UInt64(prefix.count)))
        #expect(suffix.last?.seq == 999)
        #expect(suffix.map(\.seq) == Array((suffix.first!.seq)...999))
        #expect(gap.seq + gap.records == suffix.first!.seq)
        let lostBytes = (Int(gap.seq)..<Int(suffix.first!.seq)).reduce(0) { $0 + payload($1, length: 40).count }
        #expect(gap.bytes == UInt64(lostBytes))
        for record in records { #expect(record.payload == payload(Int(record.seq), length: 40)) }
        let info = try ring.info()
        #expect(info.counters.rolledRecords == gap.records)
        #expect(info.counters.recordsWritten == 1000)
    }

    @Test func truncatesPayloadsLargerThanTheSuffix() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 4096)
        let huge = [UInt8](repeating: 0x41, count: 100_000)
        try ring.append([.line(timestamp: 5, stream: .stderr, flags: [.partial], payload: huge), line(1)])
        let records = try ring.read(ReadRequest()).records
        #expect(records.count >= 1)
        let last = try #require(records.last)
        #expect(last.payload == payload(1))
        let all = try ring.read(ReadRequest()).items
        if case let .record(first) = all.first {
            #expect(first.flags.contains(.truncated))
            #expect(first.flags.contains(.partial))
            #expect(first.payload.count == ring.maxPayload)
        }
        #expect(try ring.info().counters.truncatedRecords == 1)
    }

    @Test func dropRecordsAreGapsAtTheirPlace() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 4096)
        try ring.append([line(0), .drop(timestamp: 1500, records: 12345, bytes: 3_200_000, reason: "rate-limited"), line(2)])
        let items = try ring.read(ReadRequest()).items
        #expect(items.count == 3)
        #expect(items[1] == .gap(Gap(seq: 1, seqCount: 1, records: 12345, bytes: 3_200_000, reason: .dropped("rate-limited"), timestamp: 1500)))
        #expect(try ring.info().counters.droppedRecords == 12345)
    }

    @Test func timeNeverGoesBackwards() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 4096)
        try ring.append([line(0, time: 100), line(1, time: 50), line(2, time: 200)])
        let records = try ring.read(ReadRequest()).records
        #expect(records.map(\.timestamp) == [100, 100, 200])
        #expect(records[1].flags.contains(.timeAdjusted))
        #expect(!records[2].flags.contains(.timeAdjusted))
    }

    @Test func filtersAndLimits() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 64 * 1024)
        try ring.append((0..<100).map { line($0, stream: $0 % 3 == 0 ? .stderr : .stdout) })
        let errors = try ring.read(ReadRequest(streams: [.stderr])).records
        #expect(errors.map(\.seq) == stride(from: 0, to: 100, by: 3).map { UInt64($0) })
        let limited = try ring.read(ReadRequest(start: .seq(10), maxItems: 5))
        #expect(limited.records.map(\.seq) == [10, 11, 12, 13, 14])
        #expect(limited.next == 15)
        #expect(limited.end == .limit)
        let bytes = try ring.read(ReadRequest(maxBytes: payload(0).count + payload(1).count))
        #expect(bytes.records.count == 2)
        let bounded = try ring.read(ReadRequest(start: .time(20_000), until: 25_000))
        #expect(bounded.records.map(\.seq) == [20, 21, 22, 23, 24])
        #expect(bounded.end == .until)
        let last = try ring.read(ReadRequest(start: .last(4)))
        #expect(last.records.map(\.seq) == [96, 97, 98, 99])
        let lastErrors = try ring.read(ReadRequest(start: .last(2), streams: [.stderr]))
        #expect(lastErrors.records.map(\.seq) == [96, 99])
        let none = try ring.read(ReadRequest(start: .time(1_000_000)))
        #expect(none.items.isEmpty)
        #expect(none.next == 100)
    }

    /// The last N lines count lines, not records (a line the runtime split is one), and come
    /// from before the window's end: `until` and `before`, never the ring's end.
    @Test func lastLinesCountLinesBeforeTheWindowsEnd() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 64 * 1024)
        // Lines of 1, 3, 1, 2 and 1 records: seqs 0 | 1 2 3 | 4 | 5 6 | 7.
        let split: Set<UInt64> = [1, 2, 5]
        try ring.append((0..<8).map { index in
            .line(timestamp: Int64(index) * 1000, stream: .stdout, flags: split.contains(UInt64(index)) ? [.partial] : [], payload: payload(index))
        })
        #expect(try ring.read(ReadRequest(start: .last(2))).records.map(\.seq) == [5, 6, 7])
        #expect(try ring.read(ReadRequest(start: .last(3))).records.map(\.seq) == [4, 5, 6, 7])
        #expect(try ring.read(ReadRequest(start: .last(4))).records.map(\.seq) == [1, 2, 3, 4, 5, 6, 7])
        #expect(try ring.read(ReadRequest(start: .last(9))).records.map(\.seq) == Array(0..<8))
        let beforeSeven = try ring.read(ReadRequest(start: .last(2), before: 7))
        #expect(beforeSeven.records.map(\.seq) == [4, 5, 6])
        #expect(beforeSeven.end == .until)
        #expect(try ring.read(ReadRequest(start: .last(1), until: 4000)).records.map(\.seq) == [1, 2, 3])
        #expect(try ring.read(ReadRequest(start: .last(5), before: 1)).records.map(\.seq) == [0])
        #expect(try ring.read(ReadRequest(start: .last(1), before: 0)).items.isEmpty)
        // A line has its first record's time: a time bound inside a line leaves it whole, on
        // the side of its start. Line 1..3 runs from 1000 to 3000.
        #expect(try ring.read(ReadRequest(start: .time(2000))).records.map(\.seq) == [4, 5, 6, 7])
        #expect(try ring.read(ReadRequest(start: .time(1000), until: 2000)).records.map(\.seq) == [1, 2, 3])
        #expect(try ring.read(ReadRequest(start: .last(1), until: 2500)).records.map(\.seq) == [1, 2, 3])
    }

    @Test func refusesNewerMajorVersionsAndForeignFiles() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory)
        let path = ring.path
        let file = try RawFile(path: path, mode: .readWrite)
        var header = try file.read(count: RingFormat.superblockSize, at: 0)
        header.storeLE(UInt16(3), at: 8)
        header.storeLE(Checksum(seed: 0).of(Array(header[0..<124])), at: 124)
        try file.write(header, at: 0)
        #expect(throws: RingStoreError.unsupportedVersion(path: path, major: 3)) { try Ring.open(path: path, writable: false) }
        try file.write(Array("not a ring file at all".utf8), at: 0)
        #expect(throws: RingStoreError.notARingFile(path: path)) { try Ring.open(path: path, writable: false) }
    }

    @Test func oneWriterPerFile() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory)
        #expect(throws: RingStoreError.lockedByAnotherWriter(path: ring.path)) { try Ring.open(path: ring.path, writable: true) }
        let reader = try Ring.open(path: ring.path, writable: false)
        #expect(throws: RingStoreError.readOnly(path: ring.path)) { try reader.append([line(0)]) }
    }

    @Test func metadataUpdatesSurviveReopen() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory)
        for code in 1...3 { try ring.updateMetadata { $0.exitCode = Int32(code); $0.reason = "Error" } }
        try ring.finish()
        #expect(throws: RingStoreError.finished(path: ring.path)) { try ring.append([line(0)]) }
        let reopened = try Ring.open(path: ring.path, writable: false)
        #expect(reopened.metadata.exitCode == 3)
        #expect(reopened.isFinished)
    }

    @Test func cursorsRoundTrip() throws {
        let cursor = RingCursor(ring: .random(), seq: 42)
        #expect(try RingCursor(parsing: cursor.description) == cursor)
        #expect(throws: RingStoreError.invalidCursor("r2.x.1")) { try RingCursor(parsing: "r2.x.1") }
        #expect(RingID("not-a-uuid") == nil)
    }

    /// Ids are version 4 UUIDs in their canonical form, read back in either case; anything
    /// else, one character off, is not an id.
    @Test func idsAreCanonicalUUIDs() throws {
        for _ in 0..<1000 {
            let id = RingID.random()
            let text = id.description
            let characters = Array(text)
            #expect(text.count == 36 && characters[14] == "4" && "89ab".contains(characters[19]), "\(text)")
            #expect(text.allSatisfy { "0123456789abcdef-".contains($0) } && text.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
            #expect(RingID(text) == id && RingID(text.uppercased()) == id)
        }
        #expect(RingID("00112233-4455-6677-8899-aabbccddeeff")?.bytes == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        for bad in ["00112233-4455-6677-8899-aabbccddeef", "00112233-4455-6677-8899-aabbccddeeff0", "001122334-455-6677-8899-aabbccddeeff",
                    "00112233-4455-6677-8899-aabbccddeefg", "00112233_4455_6677_8899_aabbccddeeff", "", "00112233-4455-6677-8899-aabbccddeéf"] {
            #expect(RingID(bad) == nil, "\(bad)")
        }
    }
}
