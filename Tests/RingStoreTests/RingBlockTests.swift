import Foundation
import TestSupport
import Testing
@testable import RingStore

/// Version 2's open block and sealed blocks: when blocks are sealed, what they store, and that
/// sealing never loses or repeats a record, whatever stops it.
@Suite(.timeLimit(.minutes(3))) struct RingBlockTests {
    /// Text that compresses like a log: the same words, different numbers.
    func logLine(_ seq: Int) -> AppendEntry {
        .line(timestamp: Int64(seq) * 1000, stream: seq % 7 == 0 ? .stderr : .stdout, flags: seq % 11 == 0 ? .partial : [],
              payload: Array("2026-11-30 request \(seq) GET /api/v1/items/\(seq * 7 % 1000) status=200 took=\(seq % 97)ms".utf8))
    }

    func blocks(in ring: Ring) throws -> [(seq: UInt64, codec: UInt8, records: UInt64)] {
        var window = FrameWindow(file: ring.file, superblock: ring.superblock)
        var found: [(UInt64, UInt8, UInt64)] = []
        for region in [Region.prefix(of: ring.superblock, ring.state), .suffix(of: ring.superblock, ring.state)] {
            var walker = RegionWalker(region)
            while case let .frame(frame) = try walker.step(&window) {
                guard frame.header.type == .block else { continue }
                found.append((frame.header.seq, frame.header.stream, try #require(window.records(in: frame)).count))
            }
        }
        return found
    }

    @Test func recordsAreSealedIntoCompressedBlocksOfTheBlockSize() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 16 * 1024, suffix: 256 * 1024, blockSize: 4096)
        for start in stride(from: 0, to: 3000, by: 50) { try ring.append((start..<(start + 50)).map(logLine)) }
        let state = ring.state
        #expect(state.blockedSeq > 0 && state.stagingEnd > 0 && state.stagingEnd <= 4096)
        let blocks = try blocks(in: ring)
        // Consecutive, dense, compressed, none larger than a block's worth of staged frames.
        #expect(blocks.first?.seq == 0)
        for (block, next) in zip(blocks, blocks.dropFirst()) { #expect(block.seq + block.records == next.seq) }
        #expect(blocks.allSatisfy { $0.codec == BlockCodec.Codec.zstd.rawValue })
        // A block holds up to 4096 bytes of payload: these lines are 59 bytes and more.
        #expect(blocks.map(\.records).max()! == 4096 / 64 && blocks.dropLast().allSatisfy { $0.records >= 4096 / 72 })
        let all = try ring.read(ReadRequest())
        #expect(all.records.count == 3000 && all.gaps.isEmpty)
        for record in all.records {
            guard case let .line(time, stream, flags, payload) = logLine(Int(record.seq)) else { continue }
            #expect(record.payload == payload && record.timestamp == time && record.stream == stream && record.flags == flags)
        }
        let info = try ring.info()
        #expect(info.compressionRatio > 2, "a ring of log text holds more than it takes: \(info.compressionRatio)")
        // Seeks land inside blocks.
        #expect(try ring.read(ReadRequest(start: .seq(1234), maxItems: 1)).records.first?.seq == 1234)
        #expect(try ring.read(ReadRequest(start: .time(1_234_500), maxItems: 1)).records.first?.seq == 1235)
        #expect(try ring.read(ReadRequest(start: .last(3))).records.map(\.seq) == [2997, 2998, 2999])
    }

    @Test func aRecordLongerThanABlockIsABlockOfItsOwn() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 256 * 1024, blockSize: 1024)
        let long = [UInt8](repeating: UInt8(ascii: "z"), count: 3000)
        try ring.append([line(0), .line(timestamp: 1000, stream: .stdout, flags: [], payload: long), line(2)])
        #expect(try blocks(in: ring).map(\.records) == [1, 1])
        #expect(ring.state.blockedSeq == 2)
        let read = try ring.read(ReadRequest())
        #expect(read.records.map(\.payload) == [payload(0), long, payload(2)])
        #expect(ring.maxPayload == 4 * 1024 - RingFormat.frameHeaderSize)
    }

    @Test func inputThatDoesNotCompressIsStoredRawWithABackOff() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 512 * 1024, blockSize: 2048)
        var random = SplitMix(seed: 15)
        let written = (0..<200).map { _ in (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) } }
        for (seq, bytes) in written.enumerated() { try ring.append([.line(timestamp: Int64(seq), stream: .stdout, flags: [], payload: bytes)]) }
        #expect(try blocks(in: ring).allSatisfy { $0.codec == BlockCodec.Codec.stored.rawValue })
        #expect(try ring.read(ReadRequest()).records.map(\.payload) == written)
        // After a block that did not shrink: skip 1, then 2, 4 … up to 64; one that shrinks resets it.
        var backoff = CompressionBackoff()
        var tries: [Bool] = []
        for _ in 0..<16 {
            let tried = backoff.shouldTry()
            tries.append(tried)
            if tried { backoff.record(shrank: false) }
        }
        #expect(tries == [true, false, true, false, false, true, false, false, false, false, true, false, false, false, false, false])
        backoff.record(shrank: true)
        #expect(backoff.shouldTry() && backoff.shouldTry())
    }

    /// A seal writes its block before the checkpoint that moves the records into it. Stopped in
    /// between, the file still has them in the staging half the checkpoint names: reopened, every
    /// record is there once, and appending goes on with the right numbers.
    @Test func aSealStoppedBeforeItsCheckpointLosesAndRepeatsNothing() throws {
        let directory = Scratch("ringstore-test")
        let path: String
        do {
            let ring = try makeRing(in: directory, prefix: 4096, suffix: 64 * 1024, blockSize: 1024)
            try ring.append((0..<40).map { line($0, length: 20) })
            path = ring.path
            let committed = ring.state
            try ring.writerLock.withLock { scratch in
                var batch = AppendBatch(ring: ring, committed: committed, scratch: scratch)
                for seq in 40..<120 { try batch.place(line(seq, length: 20)) }
                #expect(batch.state.blockedSeq > committed.nextSeq, "the batch sealed blocks")
                try batch.writeAll()  // the blocks reach the file; the checkpoint never does
            }
        }
        let reopened = try Ring.open(path: path, writable: true)
        #expect(try reopened.read(ReadRequest()).records.map(\.seq) == Array(0..<40))
        try reopened.append((40..<120).map { line($0, length: 20) })
        let all = try reopened.read(ReadRequest())
        #expect(all.records.map(\.seq) == Array(0..<120) && all.gaps.isEmpty)
        for record in all.records { #expect(record.payload == payload(Int(record.seq), length: 20)) }
    }

    @Test func anIdleOpenBlockIsSealedOnlyWhenIdleAndLargeEnough() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 256 * 1024, blockSize: 8192)
        try ring.append((0..<20).map { line($0) })
        let staged = Int(ring.state.stagingEnd)
        #expect(staged > 0)
        #expect(try !ring.sealOpenBlock(ifIdleFor: .seconds(3600), minimumBytes: 1))
        #expect(try !ring.sealOpenBlock(ifIdleFor: .zero, minimumBytes: staged + 1))
        #expect(try ring.sealOpenBlock(ifIdleFor: .zero, minimumBytes: staged))
        #expect(ring.state.stagingEnd == 0 && ring.state.blockedSeq == 20)
        #expect(try ring.read(ReadRequest()).records.map(\.payload) == (0..<20).map { payload($0) })
        try ring.append([line(20)])
        #expect(try ring.read(ReadRequest(start: .last(2))).records.map(\.seq) == [19, 20])
    }

    @Test func finishingSealsTheOpenBlockAndGivesBackTheStaging() throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 1 << 20, blockSize: 16 * 1024)
        try ring.append((0..<300).map { line($0) })
        let before = try ring.info().diskBytes
        try ring.finish()
        #expect(ring.state.stagingEnd == 0 && ring.state.blockedSeq == 300)
        #expect(try ring.info().diskBytes >= before, "not before the checkpoint that releases them is on disk")
        try ring.sync()
        #expect(try ring.info().diskBytes < before, "the staging halves' pages are given back")
        let reopened = try Ring.open(path: ring.path, writable: false)
        #expect(try reopened.read(ReadRequest()).records.map(\.payload) == (0..<300).map { payload($0) })
        #expect(reopened.isFinished)
    }

    /// An upgraded agent keeps appending to a version 1 ring as version 1 until it finishes.
    @Test func version1RingsAreReadAndAppendedAsVersion1() throws {
        let directory = Scratch("ringstore-test")
        let path: String
        do {
            let ring = try makeRing(in: directory, prefix: 1024, suffix: 8192, version: .one)
            try ring.append((0..<100).map { line($0) })
            path = ring.path
        }
        let reopened = try Ring.open(path: path, writable: true)
        #expect(reopened.fileVersion == .one)
        try reopened.append((100..<150).map { line($0) })
        try reopened.finish()
        #expect(try blocks(in: reopened).isEmpty)
        let result = try Ring.open(path: path, writable: false).read(ReadRequest())
        #expect(result.records.last?.seq == 149 && result.records.allSatisfy { $0.payload == payload(Int($0.seq)) })
        #expect(try Superblock.decode(RawFile(path: path, mode: .readOnly).read(count: 128, at: 0), path: path).version == .one)
    }

    /// A block whose checksum passes but whose body lies (a hostile or buggy writer): its
    /// records are a `corrupt` gap, the blocks around it are read, nothing else is served.
    @Test(arguments: ["size beyond the cap", "body that does not decode", "fewer records than it says"])
    func aBlockThatLiesIsAGap(lie: String) throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 256 * 1024, blockSize: 2048)
        for start in stride(from: 0, to: 400, by: 20) { try ring.append((start..<(start + 20)).map(logLine)) }
        let victim = try blocks(in: ring)[2]
        var window = FrameWindow(file: ring.file, superblock: ring.superblock)
        var walker = RegionWalker(Region.prefix(of: ring.superblock, ring.state))
        var frame: FrameWindow.Frame?
        while frame == nil, case let .frame(found) = try walker.step(&window) {
            if found.header.seq == victim.seq { frame = found }
        }
        let target = try #require(frame)
        var bytes = try ring.file.read(count: Int(target.header.frameSize), at: target.offset)
        let payloadStart = RingFormat.frameHeaderSize
        switch lie {
        case "size beyond the cap": bytes.storeLE(UInt32(1 << 30), at: payloadStart + 4)
        case "body that does not decode": bytes[payloadStart + BlockHeader.size + 8] ^= 0x5a
        default: bytes.storeLE(UInt32(victim.records + 1), at: payloadStart)
        }
        let length = RingFormat.frameHeaderSize + Int(target.header.length)
        bytes.storeLE(bytes.withUnsafeBytes { ring.checksum.of(UnsafeRawBufferPointer(rebasing: $0[4..<length])) }, at: 0)
        try ring.file.write(bytes, at: target.offset)

        let result = try Ring.open(path: ring.path, writable: false).read(ReadRequest())
        let lost = victim.seq..<(victim.seq + victim.records)
        #expect(result.records.map(\.seq) == (0..<400).filter { !lost.contains($0) })
        #expect(result.gaps.map(\.reason) == [.corrupt])
        #expect(result.gaps.first?.seq == victim.seq)
        for record in result.records {
            guard case let .line(_, _, _, payload) = logLine(Int(record.seq)) else { continue }
            #expect(record.payload == payload)
        }
    }
}
