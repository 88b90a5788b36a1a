import Foundation
import TestSupport
import Testing
@testable import RingStore

/// Damage on disk: open never crashes, and no record that fails its checksum is ever returned.
/// Version 2's records are mostly in compressed blocks: damage inside one costs that block's
/// records (a gap), never a record served wrong.
// Serialized: its many synchronous cases would otherwise take every thread of the cooperative
// pool (two, on two cores) for seconds, and the end-to-end tests running beside them time out.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RingDamageTests {
    func writtenRing(_ directory: Scratch, version: RingFileVersion, records: Int = 400) throws -> String {
        let ring = try makeRing(in: directory, prefix: 2048, suffix: 8192, version: version)
        for seq in stride(from: 0, to: records, by: 4) { try ring.append((seq..<(seq + 4)).map { line($0) }) }
        return ring.path
    }

    /// Where each record of the intact ring lies in the file: its frame, or its block's.
    func frames(_ path: String) throws -> [UInt64: Range<Int>] {
        let frames = try storedFrames(path)
        let held = try Ring.open(path: path, writable: false).read(ReadRequest()).records.map(\.seq)
        #expect(frames.keys.sorted() == held, "every record the ring holds is found in one place")
        return frames
    }

    /// What a damaged ring still gives. Open may refuse it only when the damage reached the
    /// header; otherwise every record read is one that was written, byte for byte, in order,
    /// and every record that the damage did not touch (`spared`) is read. Returns the count read.
    func expectTrueRecords(_ path: String, spared: Set<UInt64>, headerHit: Bool) throws -> Int {
        let ring: Ring
        do {
            ring = try Ring.open(path: path, writable: false)
        } catch let error as RingStoreError {
            switch error {
            case .corruptHeader, .notARingFile, .unsupportedVersion: #expect(headerHit, "opened as damaged: \(error)")
            default: Issue.record("open failed: \(error)")
            }
            return 0
        }
        let result = try ring.read(ReadRequest())
        var previous: UInt64?
        for record in result.records {
            #expect(record.payload == payload(Int(record.seq)))
            #expect(record.timestamp == Int64(record.seq) * 1000)
            if let previous { #expect(record.seq > previous) }
            previous = record.seq
        }
        let missing = spared.subtracting(result.records.map(\.seq))
        #expect(missing.isEmpty, "records the damage did not touch, not read: \(missing.sorted())")
        return result.records.count
    }

    /// A flipped byte costs the record it lands in, nothing else: the frames before and after
    /// it are read (a flip in a checkpoint slot may cost the last commit, four records here).
    @Test(arguments: RingFileVersion.allCases, 1...30)
    func randomByteFlips(version: RingFileVersion, seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory, version: version)
        let frames = try frames(path)
        let lastCommit = Set(frames.keys.sorted().suffix(4))
        let file = try RawFile(path: path, mode: .readWrite)
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        var flipped: [Int] = []
        for _ in 0..<Int.random(in: 1...20, using: &random) {
            let offset = UInt64.random(in: 0..<size, using: &random)
            var byte = try file.read(count: 1, at: offset)
            byte[0] ^= UInt8.random(in: 1...255, using: &random)
            try file.write(byte, at: offset)
            flipped.append(Int(offset))
        }
        let checkpoints = [RingFormat.checkpointSlots.0, RingFormat.checkpointSlots.1].map { Int($0)..<Int($0) + RingFormat.checkpointSlotSize }
        let checkpointHit = flipped.contains { offset in checkpoints.contains { $0.contains(offset) } }
        let spared = Set(frames.filter { _, frame in !flipped.contains(where: frame.contains) }.keys)
            .subtracting(checkpointHit ? lastCommit : [])
        _ = try expectTrueRecords(path, spared: spared, headerHit: flipped.contains { $0 < Int(RingFormat.dataOffset) })
    }

    /// A file cut short loses what was past the cut, nothing before it.
    @Test(arguments: RingFileVersion.allCases, 1...10)
    func truncations(version: RingFileVersion, seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory, version: version)
        let frames = try frames(path)
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        // Most cuts land in the data, where records are.
        let cut = seed == 1 ? UInt64.random(in: 0..<RingFormat.dataOffset, using: &random)
            : UInt64.random(in: RingFormat.dataOffset..<size, using: &random)
        try RawFile(path: path, mode: .readWrite).truncate(to: cut)
        let spared = Set(frames.filter { $0.value.upperBound <= Int(cut) }.keys)
        let read = try expectTrueRecords(path, spared: spared, headerHit: cut < RingFormat.dataOffset)
        if cut >= RingFormat.dataOffset { #expect(read >= spared.count) }
    }

    @Test(arguments: RingFileVersion.allCases)
    func corruptRegionInTheMiddleIsSkippedWithAGap(version: RingFileVersion) throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 4096, version: version)
        try ring.append((0..<100).map { line($0) })
        try ring.append((100..<200).map { line($0) })
        // Smash a stretch in the middle of the prefix.
        try RawFile(path: ring.path, mode: .readWrite).write([UInt8](repeating: 0xee, count: 300), at: ring.superblock.prefixStart + 2000)
        let result = try ring.read(ReadRequest())
        #expect(result.gaps.count == 1)
        #expect(result.gaps.first?.reason == .corrupt)
        #expect(result.records.first?.seq == 0)
        #expect(result.records.last?.seq == 199)
        let gap = try #require(result.gaps.first)
        #expect(UInt64(result.records.count) + gap.records == 200)
        for record in result.records { #expect(record.payload == payload(Int(record.seq))) }
        // And writing goes on.
        try ring.append([line(200)])
        #expect(try ring.read(ReadRequest(start: .last(1))).records.first?.payload == payload(200))
    }

    @Test(arguments: RingFileVersion.allCases)
    func bothCheckpointsLostRecoversByScanning(version: RingFileVersion) throws {
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory, version: version)
        let before = try Ring.open(path: path, writable: false).read(ReadRequest())
        let file = try RawFile(path: path, mode: .readWrite)
        try file.write([UInt8](repeating: 0, count: 1024), at: RingFormat.checkpointSlots.0)
        let reopened = try Ring.open(path: path, writable: true)
        let after = try reopened.read(ReadRequest())
        #expect(after.records == before.records)
        #expect(reopened.sourcePosition.isEmpty)
        try reopened.append([line(400)])
        #expect(try reopened.read(ReadRequest(start: .last(1))).records.first?.payload == payload(400))
    }

    @Test func damagedHeaderIsQuarantinedByTheDirectory() throws {
        let directory = Scratch("ringstore-test")
        let data = directory.file("data")
        let (goodID, badPath) = try {
            let store = try RingDirectory(path: data)
            let good = try store.create(metadata: testMetadata, prefixCapacity: 1024, suffixCapacity: 4096, now: 1)
            let bad = try store.create(metadata: testMetadata, prefixCapacity: 1024, suffixCapacity: 4096, now: 1)
            try bad.append([line(0)])
            return (good.id, bad.path)
        }()
        try RawFile(path: badPath, mode: .readWrite).write([0, 0, 0, 0], at: 40)
        let reopened = try RingDirectory(path: data)
        #expect(reopened.rings().map(\.id) == [goodID])
        #expect(reopened.quarantined[badPath] == "\(badPath) has a corrupt header")
        #expect(FileManager.default.fileExists(atPath: badPath + "~"))
    }
}
