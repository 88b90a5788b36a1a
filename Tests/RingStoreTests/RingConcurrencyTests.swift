import TestSupport
import Testing
@testable import RingStore

@Suite(.timeLimit(.minutes(3))) struct RingConcurrencyTests {
    @Test func followerIsWokenByTheWriterAndEndsWhenFinished() async throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 64 * 1024, suffix: 64 * 1024)
        try ring.append([line(0)])
        let follower = Task {
            var seen: [UInt64] = []
            for try await item in ring.follow(from: 0) {
                if case let .record(record) = item { seen.append(record.seq) }
            }
            return seen
        }
        for seq in 1..<50 {
            try ring.append([line(seq)])
            if seq % 10 == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        try ring.finish()
        let seen = try await follower.value
        #expect(seen == Array(0..<50))
    }

    @Test func aReaderOvertakenByTheWriterGetsAGapNotATornRecord() async throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 0, suffix: 4096)
        try ring.append((0..<10).map { line($0, length: 40) })
        var follower = ring.follow(from: 0, batch: 1).makeAsyncIterator()
        let first = try await follower.next()
        #expect(first == .record(LogRecord(seq: 0, timestamp: 0, stream: .stdout, flags: [], payload: payload(0, length: 40))))
        // The writer laps the reader several times over.
        for seq in 10..<500 { try ring.append([line(seq, length: 40)]) }
        let second = try await follower.next()
        guard case let .gap(gap) = second else {
            Issue.record("expected a gap, got \(String(describing: second))")
            return
        }
        #expect(gap.seq == 1)
        #expect(gap.reason == .rolledOver)
        let third = try await follower.next()
        guard case let .record(record) = third else {
            Issue.record("expected a record, got \(String(describing: third))")
            return
        }
        // The gap ends at the oldest record the ring still holds: nothing kept is skipped.
        let oldest = try #require(try ring.read(ReadRequest()).records.first)
        #expect(record == oldest)
        #expect(record.seq > 1)
        #expect(record.payload == payload(Int(record.seq), length: 40))
    }

    @Test func followerCancelsCleanly() async throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory)
        let follower = Task {
            var count = 0
            for try await _ in ring.follow(from: ring.endSeq) { count += 1 }
            return count
        }
        try await waitUntil("the follower to wait") { ring.shared.withLock { !$0.waiters.isEmpty } }
        follower.cancel()
        #expect(try await follower.value == 0)
    }

    /// One writer, eight readers and eight followers on one small ring that rolls constantly:
    /// every record anyone sees is intact, in order, and followers miss nothing they are not
    /// told about with a gap.
    @Test func oneWriterEightReadersEightFollowers() async throws {
        let directory = Scratch("ringstore-test")
        let ring = try makeRing(in: directory, prefix: 2048, suffix: 16 * 1024)
        let total = 20_000
        let followers = (0..<8).map { _ in
            Task { () -> (records: Int, covered: UInt64, ordered: Bool, intact: Bool) in
                var next: UInt64 = 0
                var records = 0
                var ordered = true
                var intact = true
                for try await item in ring.follow(from: 0) {
                    switch item {
                    case let .record(record):
                        ordered = ordered && record.seq == next
                        intact = intact && record.payload == payload(Int(record.seq))
                        records += 1
                    case let .gap(gap):
                        ordered = ordered && gap.seq == next
                    }
                    next = item.nextSeq
                }
                return (records, next, ordered, intact)
            }
        }
        let readers = (0..<8).map { reader in
            Task { () -> Bool in
                var intact = true
                while !ring.isFinished {
                    let start: ReadRequest.Start = reader % 2 == 0 ? .last(50) : .time(Int64.random(in: 0...Int64(total) * 1000))
                    let result = try ring.read(ReadRequest(start: start, maxItems: 200))
                    var previous: UInt64?
                    for item in result.items {
                        if case let .record(record) = item {
                            intact = intact && record.payload == payload(Int(record.seq))
                            if let previous { intact = intact && record.seq > previous }
                            previous = record.seq
                        }
                    }
                    await Task.yield()
                }
                return intact
            }
        }
        try await Task.detached {
            var seq = 0
            while seq < total {
                let batch = Swift.min(Int.random(in: 1...20), total - seq)
                try ring.append((seq..<(seq + batch)).map { line($0) })
                seq += batch
            }
            try ring.finish()
        }.value
        for follower in followers {
            let outcome = try await follower.value
            #expect(outcome.ordered)
            #expect(outcome.intact)
            #expect(outcome.covered == UInt64(total))
            #expect(outcome.records > 0)
        }
        for reader in readers { #expect(try await reader.value) }
    }
}
