import Foundation
import LogModel
@testable import NodeAgent
import RingStore
import Testing
import TestSupport

/// One container's log into its ring, turn by turn, without the ingest loop's timing.
@Suite(.timeLimit(.minutes(3))) struct ContainerLogTests {
    /// copytruncate between two turns, the file written again to exactly the size it had: the
    /// rewrite is seen by the head of the file, which must be the head that was read.
    @Test func seesACopytruncateThatRefillsTheFileToTheSameSize() throws {
        let scratch = Scratch("container-log")
        let writer = try PodLogWriter(podsDirectory: scratch.file("pods"), namespace: "tool-demo", pod: "p", uid: "u1", container: "job")
        let ring = try Ring.create(path: scratch.file("r.ring"), prefixCapacity: 4096, suffixCapacity: 1 << 20,
                                   metadata: RingMetadata(tool: "demo", kind: .continuous, name: "p", run: "p"), createdAt: 0)
        let key = ContainerKey(namespace: "tool-demo", pod: "p", podUID: "u1", container: "job", restart: 0)
        let log = ContainerLog(key: key, directory: writer.containerDirectory, ring: ring, limits: IngestLimits(), now: 0)
        var buffer = [UInt8](repeating: 0, count: IngestLimits().quotaBytes)
        let first = (0..<10).map { "first \($0)" }, second = (0..<10).map { "again \($0)" }
        for line in first { try writer.write(line, time: 1_000) }
        // One turn reads it all; the rewrite comes before the next turn.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: writer.path)[.size] as? Int)
        #expect(try log.ingest(buffer: &buffer, limits: IngestLimits(), now: 0) == size)
        try writer.truncate()
        for line in second { try writer.write(line, time: 1_000) }
        while try log.ingest(buffer: &buffer, limits: IngestLimits(), now: 0) > 0 {}
        let kept = try ring.read(ReadRequest()).records.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(kept == first + second)
    }

    /// Only the kubelet's rotated copies are a log's history: other files beside it (a temporary
    /// file, a copy, an editor's backup, compressed copies) are never read.
    @Test func onlyTheKubeletsRotatedCopiesAreHistory() throws {
        let key = ContainerKey(namespace: "tool-demo", pod: "p", podUID: "u1", container: "job", restart: 0)
        for name in ["0.log.20261122-100000", "0.log.20991231-235959"] { #expect(key.isRotatedCopy(name), "\(name)") }
        for name in ["0.log", "0.log.tmp", "0.log.copy", "0.log~", "0.log.20261122-100000.gz", "0.log.20261122-100000.gz.tmp",
                     "0.log.2026112-1000000", "0.log.20261122_100000", "1.log.20261122-100000", "0.log.20261122-10000x"] {
            #expect(!key.isRotatedCopy(name), "\(name)")
        }
        let scratch = Scratch("container-log")
        let writer = try PodLogWriter(podsDirectory: scratch.file("pods"), namespace: "tool-demo", pod: "p", uid: "u1", container: "job")
        func file(_ name: String, _ lines: [String]) throws {
            try lines.map { "2026-11-22T10:00:00Z stdout F \($0)\n" }.joined().replace(file: writer.containerDirectory + "/" + name)
        }
        try file("0.log.20261122-100000", ["old 0", "old 1"])
        for junk in ["0.log.tmp", "0.log.copy", "0.log~", "0.log.20261122-090000.gz.tmp", "0.log.00000000-000000x"] {
            try file(junk, ["junk from \(junk)"])
        }
        for line in ["new 0", "new 1"] { try writer.write(line, time: 1_000) }
        let ring = try Ring.create(path: scratch.file("r.ring"), prefixCapacity: 4096, suffixCapacity: 1 << 20,
                                   metadata: RingMetadata(tool: "demo", kind: .continuous, name: "p", run: "p"), createdAt: 0)
        let log = ContainerLog(key: key, directory: writer.containerDirectory, ring: ring, limits: IngestLimits(), now: 0)
        var buffer = [UInt8](repeating: 0, count: IngestLimits().quotaBytes)
        // A turn reads one file; at its end the next turn goes on to the next.
        for _ in 0..<8 { _ = try log.ingest(buffer: &buffer, limits: IngestLimits(), now: 0) }
        let kept = try ring.read(ReadRequest()).records.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(kept == ["old 0", "old 1", "new 0", "new 1"])
    }
}
