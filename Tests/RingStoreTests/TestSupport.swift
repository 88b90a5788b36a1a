import Foundation
import TestSupport
@testable import RingStore

let testMetadata = RingMetadata(tool: "demo", kind: .continuous, name: "web", run: "pod-1", container: "job")

func makeRing(in directory: Scratch, name: String = "r.ring", prefix: UInt64 = 1024, suffix: UInt64 = 4096) throws -> Ring {
    try Ring.create(path: directory.file(name), prefixCapacity: prefix, suffixCapacity: suffix,
                    metadata: testMetadata, createdAt: 1)
}

/// The payload of record `seq` in tests that check content: recognisable and of varying length.
func payload(_ seq: Int, length: Int? = nil) -> [UInt8] {
    let text = "line \(seq) " + String(repeating: "x", count: length ?? (seq * 7) % 50)
    return Array(text.utf8)
}

func line(_ seq: Int, time: Int64? = nil, stream: LogStream = .stdout, length: Int? = nil) -> AppendEntry {
    .line(timestamp: time ?? Int64(seq) * 1000, stream: stream, flags: [], payload: payload(seq, length: length))
}

/// A small deterministic generator, so a failing seed can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
