import Foundation
import TestSupport
import Testing
@testable import RingStore

/// The run index's records (docs/ring-format.md, "The run index"): what a record gives back is
/// what was folded, times rounded outward only, so that a read's choice of runs never misses one.
struct RunIndexTests {
    let checksum = Checksum(seed: 0x5eed)
    let job = JobKey(tool: "demo", kind: .scheduled, name: "tick")

    func roundTrip(_ run: FoldedRun, at offset: UInt64 = 8192) throws -> RunRecord {
        let bytes = RunRecord.encode(run, entryOffset: offset, checksum: checksum)
        #expect(bytes.count % 8 == 0 && bytes.count >= RunRecord.minSize && bytes.count <= RunRecord.maxSize)
        return try #require(bytes.withUnsafeBytes { RunRecord.decode($0, at: 64, job: job, checksum: checksum) })
    }

    @Test func recordsGiveBackWhatWasFoldedWithTimesRoundedOutward() throws {
        var random = SplitMix(seed: 20)
        for _ in 0..<2000 {
            let started = Int64.random(in: 1_600_000_000_000_000_000...1_900_000_000_000_000_000, using: &random)
            // Spans from microseconds to months: each unit of the record is used.
            let span = Int64.random(in: 0...(Int64(1) << Int64.random(in: 10...58, using: &random)), using: &random)
            let first = Bool.random(using: &random) ? started + Int64.random(in: -5_000_000_000...span, using: &random) : nil
            let last = first.map { $0 + Int64.random(in: 0...span, using: &random) }
            let name = Bool.random(using: &random) ? "tick-\(Int.random(in: 0...99_999_999, using: &random))" : "other-\(UUID())"
            let run = FoldedRun(id: .random(), job: job, run: name, segment: Int.random(in: 0...70_000, using: &random) % 65_536,
                                startedAt: Bool.random(using: &random) ? started : nil, endedAt: (last ?? started) + 1_234,
                                exitCode: Bool.random(using: &random) ? Int32.random(in: -9...255, using: &random) : nil,
                                oomKilled: Bool.random(using: &random), firstTimestamp: first, lastTimestamp: last,
                                keptRecords: UInt64.random(in: 0...1 << 33, using: &random), keptBytes: UInt64.random(in: 0...1 << 33, using: &random),
                                diskBytes: UInt64.random(in: 8...4 << 20 - 8, using: &random) / 8 * 8)
            let offset = UInt64.random(in: 8192...1 << 40 - 8, using: &random) / 8 * 8
            let back = try roundTrip(run, at: offset)
            #expect(back.entryOffset == offset && back.run.diskBytes == run.diskBytes && back.run.id == run.id)
            #expect(back.run.run == run.run && back.run.startedAt == run.startedAt && back.run.exitCode == run.exitCode)
            #expect(back.run.oomKilled == run.oomKilled && back.run.segment == run.segment && !back.erased)
            #expect(back.run.keptRecords == min(run.keptRecords, UInt64(UInt32.max)) && back.run.keptBytes == min(run.keptBytes, UInt64(UInt32.max)))
            #expect(back.run.endedAt >= run.endedAt)
            #expect((back.run.firstTimestamp == nil) == (first == nil))
            if let first, let last, let backFirst = back.run.firstTimestamp, let backLast = back.run.lastTimestamp {
                #expect(backFirst <= first && backLast >= last, "never narrower than the run")
                // At most one unit wider: a microsecond for a short run.
                if last - (run.startedAt ?? run.endedAt) < 1_000_000_000 && first >= (run.startedAt ?? run.endedAt) - 1_000_000_000 {
                    #expect(first - backFirst < 1_000 && backLast - last < 1_000)
                }
            }
        }
    }

    @Test func aScheduledRunCostsSeventyTwoBytesAndADamagedRecordIsRefused() throws {
        let run = FoldedRun(id: .random(), job: job, run: "tick-29412345", segment: 0, startedAt: 1_800_000_000_000_000_000,
                            endedAt: 1_800_000_030_000_000_000, exitCode: 0, oomKilled: false, firstTimestamp: 1_800_000_000_100_000_000,
                            lastTimestamp: 1_800_000_029_000_000_000, keptRecords: 20, keptBytes: 3714, diskBytes: 1200)
        var bytes = RunRecord.encode(run, entryOffset: 8192, checksum: checksum)
        #expect(bytes.count == 72)
        bytes[20] ^= 1
        #expect(bytes.withUnsafeBytes { RunRecord.decode($0, at: 64, job: job, checksum: checksum) } == nil)
        // A long name is cut at a character, never inside one.
        let long = try roundTrip(FoldedRun(id: .random(), job: job, run: String(repeating: "é", count: 200), segment: 0, startedAt: nil,
                                           endedAt: 1, exitCode: nil, oomKilled: false, firstTimestamp: nil, lastTimestamp: nil,
                                           keptRecords: 0, keptBytes: 0, diskBytes: 64))
        #expect(long.run.run == String(repeating: "é", count: 127))
    }
}
