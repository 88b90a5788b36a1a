import AgentWire
import LogModel
import Testing
@testable import Gateway

/// What a follow makes of its upstreams' events (`FollowMarks`), and the cursors it and a
/// merged read hand out (`CompositeCursor`): pure, no agent.
@Suite(.timeLimit(.minutes(1))) struct FollowMarksTests {
    func item(seq: UInt64, time: Int64?) -> AgentItem {
        let log = LogItem(type: time == nil ? .gap : .log, datetime: time.map(NanoTime.format), message: "line \(seq)")
        return try! AgentItem(line: Array(AgentItem.line(log, seq: seq, next: seq + 7, time: time).dropLast()))
    }

    func entry(_ step: FollowMarks.Step) -> ReadEntry? {
        if case let .send(entry) = step { return entry }
        return nil
    }

    @Test func eachItemCarriesEveryRingsPositionAfterIt() throws {
        var marks = FollowMarks(positions: ["a": .after(10), "b": .since(500)], endsWhenFinished: false)
        let first = try #require(entry(marks.take(.item(ring: "b", item(seq: 40, time: 600)), following: ["a", "b"], now: 0)))
        #expect(try CompositeCursor(parsing: #require(first.cursor).text).positions == ["a": .after(10), "b": .after(47)])
        let second = try #require(entry(marks.take(.item(ring: "a", item(seq: 10, time: 550)), following: ["a", "b"], now: 0)))
        // A client resuming from the second item gets neither item again, and nothing of either ring is skipped.
        #expect(try CompositeCursor(parsing: #require(second.cursor).text).positions == ["a": .after(17), "b": .after(47)])
        // A ring that joins the follow later is in the cursors from its first item.
        let third = try #require(entry(marks.take(.item(ring: "c", item(seq: 0, time: 700)), following: ["a", "b", "c"], now: 0)))
        #expect(try CompositeCursor(parsing: #require(third.cursor).text).positions.keys.sorted() == ["a", "b", "c"])
    }

    @Test func aGapWithoutTimeTakesNowAndATickIsAHeartbeat() throws {
        var marks = FollowMarks(positions: [:], endsWhenFinished: false)
        let gap = try #require(entry(marks.take(.item(ring: "a", item(seq: 3, time: nil)), following: ["a"], now: 1_000_000_000)))
        #expect(gap.datetime == NanoTime.format(1_000_000_000))
        let tick = try #require(entry(marks.take(.tick, following: ["a"], now: 2_000_000_000)))
        #expect(tick.type == .heartbeat)
        let warning = try #require(entry(marks.take(.warning("node-2 is unreachable"), following: ["a"], now: 0)))
        guard case let .own(heartbeat) = tick.body, case let .own(note) = warning.body else {
            Issue.record("a heartbeat and a warning are the gateway's own entries")
            return
        }
        #expect(heartbeat.datetime == NanoTime.format(2_000_000_000))
        #expect(note.message == "node-2 is unreachable")
    }

    @Test func aFollowWithAnEndEndsWhenEveryRingItFollowsHas() {
        func ends(_ step: FollowMarks.Step) -> Bool {
            if case .end = step { return true }
            return false
        }
        var marks = FollowMarks(positions: [:], endsWhenFinished: true)
        #expect(!ends(marks.take(.ended(ring: "a"), following: ["a", "b"], now: 0)))
        // A ring that joined after the start must end too.
        #expect(!ends(marks.take(.ended(ring: "b"), following: ["a", "b", "c"], now: 0)))
        #expect(ends(marks.take(.ended(ring: "c"), following: ["a", "b", "c"], now: 0)))

        var endless = FollowMarks(positions: [:], endsWhenFinished: false)
        #expect(!ends(endless.take(.ended(ring: "a"), following: ["a"], now: 0)))
    }

    @Test func aMarkPlacesEveryOtherRingByTimeThenRingID() {
        let forward = CompositeCursor.Mark(time: 100, ring: "m", seq: 42, newestFirst: false)
        #expect(forward.position(of: "m") == .after(42))
        #expect(forward.position(of: "a") == .since(101))  // merged before "m" at 100: past that time
        #expect(forward.position(of: "z") == .since(100))  // merged after "m" at 100: not yet
        let backward = CompositeCursor.Mark(time: 100, ring: "m", seq: 42, newestFirst: true)
        #expect(backward.position(of: "m") == .before(42))
        #expect(backward.position(of: "a") == .until(101))
        #expect(backward.position(of: "z") == .until(100))
        // A client's mark may hold any time.
        #expect(CompositeCursor.Mark(time: .max, ring: "m", seq: 0, newestFirst: false).position(of: "a") == .since(.max))
    }

    @Test func cursorsRoundTripAndOthersAreRefusedWithTheEnvelopesMessage() throws {
        let mark = CompositeCursor(mark: .init(time: -5, ring: "r-1", seq: 9, newestFirst: true))
        #expect(try CompositeCursor(parsing: mark.text) == mark)
        let positions = CompositeCursor(positions: ["a": .after(3), "b": .since(-2)])
        #expect(try CompositeCursor(parsing: positions.text) == positions)
        for text in ["", "k1.", "k1.!!!", "x1.YQ", "c1." + Base64.encode(Array("a=s-1".utf8), urlSafe: true),
                     "k1." + Base64.encode(Array("o;1;;2".utf8), urlSafe: true), "c1." + Base64.encode(Array("a=q1".utf8), urlSafe: true)] {
            #expect(throws: (any Error).self, "\(text)") { try CompositeCursor(parsing: text) }
        }
    }
}
