import Foundation
import TestSupport
import Testing
@testable import RingStore

/// A writer in another process is SIGKILLed at random moments; every time, the file must
/// reopen to a consistent prefix of what was written, with the source position of exactly the
/// records it holds, and take new writes.
@Suite(.timeLimit(.minutes(3))) struct RingCrashTests {
    static var ringctl: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [here, here.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("ringctl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/ringctl").path
    }

    /// Mirrors `ringctl write-load`'s payload: `<seq>:` and a letter repeated.
    static func expectedPayload(_ seq: UInt64) -> [UInt8] {
        Array("\(seq):".utf8) + [UInt8](repeating: UInt8(ascii: "a") + UInt8(seq % 26), count: Int(20 + seq % 150))
    }

    @Test func survivesSigkillAtRandomMoments() throws {
        let directory = Scratch("ringstore-test")
        let path = directory.file("crash.ring")
        var random = SplitMix(seed: 7)
        let deadline = ContinuousClock.now + .seconds(60)
        var rounds = 0
        var committed: UInt64 = 0
        while rounds < 25, ContinuousClock.now < deadline {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: Self.ringctl)
            child.arguments = ["write-load", path, "--batch", String(Int.random(in: 1...64, using: &random)),
                               "--prefix", "16384", "--suffix", "65536"]
            try child.run()
            usleep(UInt32.random(in: 20_000...150_000, using: &random))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)
            rounds += 1

            guard FileManager.default.fileExists(atPath: path) else { continue }
            let ring = try Ring.open(path: path, writable: true)
            let position = ring.sourcePosition
            let end = ring.endSeq
            // The source position says exactly how many records the file holds.
            if end > 0 { #expect(position == withUnsafeBytes(of: end.littleEndian, Array.init)) }
            #expect(end >= committed)
            committed = end
            let result = try ring.read(ReadRequest())
            var expectedSeq: UInt64 = 0
            for item in result.items {
                switch item {
                case let .record(record):
                    #expect(record.seq == expectedSeq)
                    #expect(record.payload == Self.expectedPayload(record.seq))
                case let .gap(gap):
                    #expect(gap.reason == .rolledOver)
                    #expect(gap.seq == expectedSeq)
                }
                expectedSeq = item.nextSeq
            }
            #expect(expectedSeq == end)
            #expect(result.records.first?.seq == (end > 0 ? 0 : nil))
        }
        #expect(rounds >= 20)
        #expect(committed > 0)
    }
}
