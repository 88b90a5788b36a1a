import TestSupport
import Testing
@testable import RingStore

/// Compares what a reader returns with a plain model of a prefix+suffix ring: the first records
/// up to the prefix capacity, the last records up to the suffix capacity, one gap between. In
/// version 2 the regions hold blocks whose sizes depend on compression, so the prefix's count
/// comes from the ring; everything else is checked against the model the same way.
// Serialized: its many synchronous cases would otherwise take every thread of the cooperative
// pool (two, on two cores) for seconds, and the end-to-end tests running beside them time out.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RingModelTests {
    @Test(arguments: RingFileVersion.allCases, 1...40)
    func readerMatchesModel(version: RingFileVersion, seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let prefix = UInt64(Int.random(in: 0...40, using: &random) * 64)
        let suffix = UInt64(Int.random(in: 64...256, using: &random) * 64)
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: prefix, suffix: suffix, version: version)
        // Odd seeds write random bytes (stored raw), even ones text that compresses.
        let alphabet: ClosedRange<UInt8> = seed % 2 == 0 ? 97...100 : 0...255
        let count = Int.random(in: 0...1500, using: &random)
        var written: [[UInt8]] = []
        var index = 0
        while index < count {
            let batch = Int.random(in: 1...40, using: &random)
            var entries: [AppendEntry] = []
            for _ in 0..<Swift.min(batch, count - index) {
                let size = Int.random(in: 0...Int(suffix / 6), using: &random)
                let bytes = (0..<size).map { _ in UInt8.random(in: alphabet, using: &random) }
                written.append(bytes)
                entries.append(.line(timestamp: Int64(index), stream: .stdout, flags: [], payload: bytes))
                index += 1
            }
            try ring.append(entries)
        }
        let result = try ring.read(ReadRequest())
        let frame = { (n: Int) in FrameHeader.frameSize(payload: written[n].count) }

        // Prefix: records in order while they fit; the first that does not fit seals it.
        var prefixCount = 0
        var prefixBytes: UInt64 = 0
        while version == .one, prefixCount < written.count, prefixBytes + frame(prefixCount) <= prefix {
            prefixBytes += frame(prefixCount)
            prefixCount += 1
        }
        if version >= .two { prefixCount = Int(try ring.info().prefixRecords.upperBound) }
        let records = result.records
        let inPrefix = records.filter { $0.seq < UInt64(prefixCount) }
        #expect(inPrefix.map(\.seq) == Array(0..<UInt64(prefixCount)))

        // Suffix: a contiguous run ending with the last record, within the capacity, and not
        // much smaller than it (at most two frames lost to the wrap and the next record).
        let inSuffix = records.filter { $0.seq >= UInt64(prefixCount) }
        if let first = inSuffix.first {
            #expect(inSuffix.map(\.seq) == Array(first.seq..<UInt64(written.count)))
            if version == .one {
                let kept = inSuffix.reduce(UInt64(0)) { $0 + frame(Int($1.seq)) }
                #expect(kept <= suffix)
                let biggest = (prefixCount..<written.count).map(frame).max() ?? 0
                if first.seq > UInt64(prefixCount) { #expect(kept + 2 * biggest + 64 >= suffix) }
            } else if first.seq > UInt64(prefixCount) {
                // Whole blocks roll over: what is left is the capacity less at most two blocks.
                let largestBlock = ring.superblock.stagingCapacity + RingFormat.blockOverhead
                #expect(ring.state.used <= suffix && ring.state.used + 2 * largestBlock + 64 >= suffix)
            }
        } else {
            #expect(prefixCount == written.count)
        }
        for record in records { #expect(record.payload == written[Int(record.seq)]) }
        // A read that lends the payloads instead hands out the same records, in the same order,
        // and stops where the same read does: the whole ring, and windows that limits, bounds
        // and starts cut.
        let windows = [ReadRequest()] + (0..<4).map { _ in
            let seq = UInt64.random(in: 0...UInt64(written.count), using: &random)
            return ReadRequest(start: [.seq(seq), .last(Int.random(in: 1...max(1, written.count), using: &random)), .time(Int64(seq))]
                                   .randomElement(using: &random)!,
                               until: Bool.random(using: &random) ? Int64.random(in: 0...Int64(written.count), using: &random) : nil,
                               maxItems: Int.random(in: 1...50, using: &random), maxBytes: Int.random(in: 1...Int(suffix), using: &random))
        }
        for window in windows {
            let kept = try ring.read(window)
            var lent: [LogRecord] = []
            let lending = try ring.read(window) { record in
                lent.append(LogRecord(seq: record.seq, timestamp: record.timestamp, stream: record.stream, flags: record.flags,
                                      payload: Array(record.payload)))
            }
            #expect(lent == kept.records, "\(window)")
            #expect(lending.records.allSatisfy(\.payload.isEmpty) && lending.records.map(\.seq) == kept.records.map(\.seq))
            #expect(lending.gaps == kept.gaps && lending.next == kept.next && lending.end == kept.end)
        }

        // One gap, exactly where records are missing, with their exact size.
        let missing = UInt64(written.count - records.count)
        if missing == 0 {
            #expect(result.gaps.isEmpty)
        } else {
            #expect(result.gaps.count == 1)
            let gap = try #require(result.gaps.first)
            #expect(gap.seq == UInt64(prefixCount))
            #expect(gap.records == missing)
            let lostBytes = (prefixCount..<(prefixCount + Int(missing))).reduce(0) { $0 + written[$1].count }
            #expect(gap.bytes == UInt64(lostBytes))
            guard case .gap = result.items[prefixCount] else {
                Issue.record("the gap is not between prefix and suffix")
                return
            }
        }

        // Seeks agree with the model too: by sequence number, by time, last N.
        if let target = records.randomElement(using: &random) {
            let bySeq = try ring.read(ReadRequest(start: .seq(target.seq), maxItems: 1))
            #expect(bySeq.records.first == target)
            // A time that may fall among rolled-over records starts at their gap.
            let byTime = try ring.read(ReadRequest(start: .time(target.timestamp), maxItems: 2))
            #expect(byTime.records.first == target)
            if case .gap = byTime.items.first { #expect(target.seq == result.gaps.first.map { $0.seq + $0.records }) }
            let n = Int.random(in: 1...records.count, using: &random)
            let last = try ring.read(ReadRequest(start: .last(n)))
            #expect(last.records == Array(records.suffix(n)))
        }
        // Reopening gives the same answer.
        let reopened = try Ring.open(path: ring.path, writable: false)
        #expect(try reopened.read(ReadRequest()) == result)
    }
}
