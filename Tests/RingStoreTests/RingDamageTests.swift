import Foundation
import TestSupport
import Testing
@testable import RingStore

/// Damage on disk: open never crashes, and no record that fails its checksum is ever returned.
@Suite struct RingDamageTests {
    func writtenRing(_ directory: Scratch, records: Int = 400) throws -> String {
        let ring = try makeRing(in: directory, prefix: 2048, suffix: 8192)
        for seq in stride(from: 0, to: records, by: 4) { try ring.append((seq..<(seq + 4)).map { line($0) }) }
        return ring.path
    }

    /// Every record read is one that was written, byte for byte, in increasing order.
    func expectOnlyTrueRecords(_ path: String, writable: Bool = false) throws -> Int {
        let ring: Ring
        do {
            ring = try Ring.open(path: path, writable: writable)
        } catch is RingStoreError {
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
        return result.records.count
    }

    @Test(arguments: 1...30)
    func randomByteFlips(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory)
        let file = try RawFile(path: path, mode: .readWrite)
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        for _ in 0..<Int.random(in: 1...20, using: &random) {
            let offset = UInt64.random(in: 0..<size, using: &random)
            var byte = try file.read(count: 1, at: offset)
            byte[0] ^= UInt8.random(in: 1...255, using: &random)
            try file.write(byte, at: offset)
        }
        _ = try expectOnlyTrueRecords(path)
    }

    @Test(arguments: 1...10)
    func truncations(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory)
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        try RawFile(path: path, mode: .readWrite).truncate(to: UInt64.random(in: 0..<size, using: &random))
        _ = try expectOnlyTrueRecords(path)
    }

    @Test func corruptRegionInTheMiddleIsSkippedWithAGap() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 4096)
        try ring.append((0..<100).map { line($0) })
        // Smash a stretch in the middle of the prefix.
        try RawFile(path: ring.path, mode: .readWrite).write([UInt8](repeating: 0xee, count: 300), at: RingFormat.dataOffset + 2000)
        let result = try ring.read(ReadRequest())
        #expect(result.gaps.count == 1)
        #expect(result.gaps.first?.reason == .corrupt)
        #expect(result.records.first?.seq == 0)
        #expect(result.records.last?.seq == 99)
        let gap = try #require(result.gaps.first)
        #expect(UInt64(result.records.count) + gap.records == 100)
        for record in result.records { #expect(record.payload == payload(Int(record.seq))) }
        // And writing goes on.
        try ring.append([line(100)])
        #expect(try ring.read(ReadRequest(start: .last(1))).records.first?.payload == payload(100))
    }

    @Test func bothCheckpointsLostRecoversByScanning() throws {
        let directory = Scratch("ringstore-test")
        let path = try writtenRing(directory)
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
