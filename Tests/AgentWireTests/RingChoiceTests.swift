import AgentWire
import LogModel
import TestSupport
import Testing

/// Which rings a read asks: never one fewer than its lines need, and for a job of many runs
/// only the few that hold them.
@Suite struct RingChoiceTests {
    /// A ring of `times` (sorted), as the inventory lists it.
    static func ring(_ id: Int, times: [Int64], live: Bool = false, rolled: UInt64 = 0, records: Int? = nil) -> AgentRing {
        let count = UInt64(records ?? times.count)
        return AgentRing(id: String(format: "r%04d", id), node: "n", tool: "t", kind: .scheduled, name: "tick", run: "run-\(id)", segment: 0,
                         namespace: nil, pod: nil, container: nil, image: nil, startedAt: nil, finishedAt: nil, exitCode: nil, reason: nil,
                         state: live ? .live : .finished, diskBytes: 0, prefixCapacity: 0, suffixCapacity: 0,
                         recordsWritten: count + rolled, bytesWritten: 0, rolledRecords: rolled, rolledBytes: 0,
                         droppedRecords: 0, droppedBytes: 0, truncatedRecords: 0, firstSeq: rolled, endSeq: count + rolled,
                         firstTime: times.first.map(NanoTime.format), lastTime: times.last.map(NanoTime.format))
    }

    /// The lines a read gets from `rings`: the window's, in merged order (time, then ring id),
    /// the first `lines` from its starting end.
    static func read(_ rings: [(AgentRing, [Int64])], _ choice: RingChoice) -> [String] {
        let all = rings.flatMap { ring, times in times.enumerated().map { (time: $1, ring: ring.id, seq: $0) } }
            .filter { $0.time >= (choice.since ?? .min) && $0.time < (choice.until ?? .max) }
            .sorted { ($0.time, $0.ring, $0.seq) < ($1.time, $1.ring, $1.seq) }
        let ordered = choice.newestFirst ? all.reversed() : all
        return ordered.prefix(choice.lines ?? .max).map { "\($0.ring)#\($0.seq)" }
    }

    @Test func theLastLinesOfAJobOfManyRunsAskOnlyTheNewestRuns() {
        // A run a minute of 320 records over 20 seconds, for 1,000 minutes: 20 lines a run if
        // every line were 16 records, as RingChoice assumes at worst.
        let rings = (0..<1000).map { run in
            Self.ring(run, times: [Int64(run) * 60_000_000_000 + 1, Int64(run) * 60_000_000_000 + 20_000_000_000], records: 320)
        }
        let last50 = RingChoice(lines: 50, newestFirst: true).choose(rings) { $0 }
        #expect(last50.map(\.id) == ["r0997", "r0998", "r0999"])
        let first30 = RingChoice(lines: 30).choose(rings) { $0 }
        #expect(first30.map(\.id) == ["r0000", "r0001"])
        let window = RingChoice(since: 100 * 60_000_000_000 + 5_000_000_000, until: 103 * 60_000_000_000)
        #expect(window.choose(rings) { $0 }.map(\.id) == ["r0100", "r0101", "r0102"])
    }

    @Test func liveRingsAndRingsWithoutTimesAreAlwaysAsked() {
        let old = Self.ring(1, times: [1_000])
        let quiet = Self.ring(2, times: [2_000], live: true)
        let gapOnly = Self.ring(3, times: [], rolled: 40)
        let newest = Self.ring(4, times: Array(10_000..<10_100), records: 1600)
        let chosen = RingChoice(lines: 10, newestFirst: true).choose([old, quiet, gapOnly, newest]) { $0 }
        #expect(chosen.map(\.id) == ["r0002", "r0003", "r0004"])
    }

    /// Rings of random, overlapping spans (parallel runs, retries, a live one), lines of several
    /// records, random windows and counts, both directions: the chosen rings give exactly the
    /// lines all of them give.
    @Test func theChosenRingsReadWhatAllTheRingsRead() {
        var random = SplitMix(seed: 20)
        for round in 0..<400 {
            let rings = (0..<Int(random.next() % 30 + 1)).map { id -> (AgentRing, [Int64]) in
                let start = Int64(random.next() % 10_000)
                let times = (0..<Int(random.next() % 12)).map { _ in start + Int64(random.next() % 2_000) }.sorted()
                // Each line made of 1 to 16 records, as long lines are.
                let records = times.count * Int(random.next() % 16 + 1)
                return (Self.ring(id, times: times, live: random.next() % 10 == 0, rolled: random.next() % 4 == 0 ? 5 : 0, records: records), times)
            }
            var choice = RingChoice(lines: Int(random.next() % 60), newestFirst: random.next() % 2 == 0)
            if random.next() % 2 == 0 { choice.since = Int64(random.next() % 8_000) }
            if random.next() % 2 == 0 { choice.until = (choice.since ?? 0) + Int64(random.next() % 6_000) }
            let chosen = Set(choice.choose(rings.map(\.0)) { $0 }.map(\.id))
            #expect(Self.read(rings.filter { chosen.contains($0.0.id) }, choice) == Self.read(rings, choice), "round \(round): \(choice)")
        }
    }
}
