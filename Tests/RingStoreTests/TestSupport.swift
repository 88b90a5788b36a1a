import Foundation
import TestSupport
@testable import RingStore

let testMetadata = RingMetadata(tool: "demo", kind: .continuous, name: "web", run: "pod-1", container: "job")

func makeRing(in directory: Scratch, name: String = "r.ring", prefix: UInt64 = 1024, suffix: UInt64 = 4096,
              version: RingFileVersion = .newest, blockSize: UInt32? = nil) throws -> Ring {
    try Ring.create(path: directory.file(name), prefixCapacity: prefix, suffixCapacity: suffix,
                    metadata: testMetadata, createdAt: 1, version: version, blockSize: blockSize)
}

/// Where each record the ring holds is stored: the byte range of its frame in the file (a
/// record frame, or the block it was sealed into), found by walking the regions as a reader does.
func storedFrames(_ path: String) throws -> [UInt64: Range<Int>] {
    let ring = try Ring.open(path: path, writable: false)
    let state = ring.state
    var window = FrameWindow(file: ring.file, superblock: ring.superblock)
    var frames: [UInt64: Range<Int>] = [:]
    for region in [Region.prefix(of: ring.superblock, state), .suffix(of: ring.superblock, state), .staging(of: ring.superblock, state)] {
        var walker = RegionWalker(region)
        while case let .frame(frame) = try walker.step(&window) {
            guard let (count, _) = window.records(in: frame) else { continue }
            for seq in frame.header.seq..<(frame.header.seq + count) where region.seqs.contains(seq) {
                frames[seq] = Int(frame.offset)..<Int(frame.offset + frame.header.frameSize)
            }
        }
    }
    return frames
}

/// The payload of record `seq` in tests that check content: recognisable and of varying length.
func payload(_ seq: Int, length: Int? = nil) -> [UInt8] {
    let text = "line \(seq) " + String(repeating: "x", count: length ?? (seq * 7) % 50)
    return Array(text.utf8)
}

func line(_ seq: Int, time: Int64? = nil, stream: LogStream = .stdout, length: Int? = nil) -> AppendEntry {
    .line(timestamp: time ?? Int64(seq) * 1000, stream: stream, flags: [], payload: payload(seq, length: length))
}

