import AgentWire
import Foundation
import LogModel
import NIOCore
import NIOPosix
import Testing

/// The agent's API as both sides see it: what one writes, the other reads back the same.
@Suite(.timeLimit(.minutes(3))) struct RingReadQueryTests {
    @Test func everyParameterSurvivesTheQueryString() throws {
        let query = RingReadQuery(before: 9, since: -5, until: 1_795_342_599_999_000_000, lines: 3, limit: 4, limitBytes: 5,
                                  stream: .stderr, grep: "a b&c=d/é+%", follow: true, timestamps: true)
        #expect(query.encoded.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: " ") }, "an ASCII query: \(query.encoded)")
        let parsed = try RingReadQuery(parsing: Self.decoded(query.encoded))
        #expect(parsed == query)
        #expect(try RingReadQuery(parsing: Self.decoded(RingReadQuery().encoded)) == RingReadQuery())
        let resumed = RingReadQuery(after: 7, until: 0, limit: 1)
        #expect(try RingReadQuery(parsing: Self.decoded(resumed.encoded)) == resumed)
    }

    @Test func badParametersSayWhichAndWhy() {
        let cases: [(String, String)] = [
            ("lines=-1", "lines: must be a whole number from 0 to 1000000, not -1"),
            ("lines=1000001", "lines: must be a whole number from 0 to 1000000, not 1000001"),
            ("limit=0", "limit: must be a positive whole number, not 0"),
            ("after=r1.x.3", "after: must be a position (a whole number), not r1.x.3"),
            ("since=noon", "since: must be nanoseconds since the epoch, not noon"),
            ("until=9223372036854775808", "until: must be nanoseconds since the epoch, not 9223372036854775808"),
            ("stream=all", "stream: must be stdout, stderr or other, not all"),
            ("follow=yes", "follow: must be true or false, not yes"),
            ("grep=", "grep: must be 1 to 1024 bytes"),
            ("colour=red", "colour: not a parameter of a ring read"),
            ("limit=1&limit=2", "limit: given twice"),
            ("after=1&lines=2", "lines: the last lines start where they start, not after a position"),
        ]
        for (text, message) in cases {
            #expect(throws: RingReadQuery.Invalid(description: message), "\(text)") { try RingReadQuery(parsing: Self.decoded(text)) }
        }
    }

    /// As a server hands the parameters over: split and percent-decoded.
    static func decoded(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding! }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct AgentItemTests {
    @Test func aLineCarriesItsPositionsTimeAndThePublicItem() throws {
        let item = LogItem(type: .log, datetime: "2026-11-22T10:00:00.000000001Z", stream: "stdout", message: "he said \"hi\"\n",
                           pod: "p", container: "c", run: "r", node: "n", fields: ["user": .string("alice")])
        var line = AgentItem.line(item, seq: 41, next: 43, time: -1)
        #expect(line.removeLast() == UInt8(ascii: "\n"))
        let parsed = try AgentItem(line: line)
        #expect((parsed.seq, parsed.next, parsed.time, parsed.type) == (41, 43, -1, .log))
        #expect(try parsed.decoded() == item)
        // What the gateway hands out: the item's own members, then its own.
        var writer = JSONWriter()
        parsed.write(to: &writer) { $0.field("cursor", "k1.x") }
        var expected = item
        expected.cursor = "k1.x"
        #expect(try JSONDecoder().decode(LogItem.self, from: Data(writer.bytes)) == expected)
        #expect(!String(decoding: writer.bytes, as: UTF8.self).contains("\"seq\""))
    }

    /// A record's line written from its bytes is the line of its item, byte for byte: text,
    /// escapes, line separators, invalid UTF-8 (replaced, with the bytes in base64), flags.
    @Test func aRecordWrittenFromItsBytesIsItsItemsLine() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [Array("plain text ".utf8), Array("\"quoted\" \\ ".utf8), [0x0a, 0x09, 0x00, 0x1f, 0x7f],
                                 Array("é € 😀 \u{2028}\u{2029}\u{85}".utf8), [0xff, 0xc2], [0xe2, 0x80], [0xe2, 0x80, 0xa8], [0xc2, 0x85]]
        for round in 0..<300 {
            let payload = (0..<Int.random(in: 0...6, using: &generator)).flatMap { _ in pieces.randomElement(using: &generator)! }
            let (partial, truncated) = (round % 3 == 0, round % 5 == 0)
            let time = Int64.random(in: 0...4_000_000_000_000_000_000, using: &generator)
            var item = LogItem.line(payload, datetime: NanoTime.format(time), stream: "stderr")
            item.partial = partial ? true : nil
            item.truncated = truncated ? true : nil
            (item.pod, item.container, item.run, item.node) = ("p-1", "c", round % 2 == 0 ? "r" : nil, "node-1")
            var writer = JSONWriter()
            AgentItem.writeLog(seq: 7, next: 9, time: time, stream: "stderr", payload: payload, partial: partial, truncated: truncated,
                               source: AgentItem.sourceMembers(pod: "p-1", container: "c", run: item.run, node: "node-1"), to: &writer)
            #expect(writer.bytes == AgentItem.line(item, seq: 7, next: 9, time: time), "\(payload)")
        }
    }

    @Test func anUndatedGapAndTheEdgesOfTime() throws {
        for time in [nil, Int64.min, Int64.max, 0] {
            var line = AgentItem.line(LogItem(type: .gap, records: 3), seq: .max, next: .max, time: time)
            line.removeLast()
            let parsed = try AgentItem(line: line)
            #expect(parsed.time == time)
            #expect(parsed.seq == .max)
        }
    }

    @Test func whatIsNotALineOfThisAPIIsRefused() {
        let bad = [#"{"type":"log"}"#, #"{"seq":1,"next":2,"time":3,"type":"nonsense"}"#, #"{"seq":-1,"next":2,"time":3,"type":"log"}"#,
                   #"{"seq":99999999999999999999,"next":2,"time":3,"type":"log"}"#, #"{"seq":1,"next":2,"time":3,"type":"log""#,
                   #"{"seq":1,"next":2,"time":9223372036854775808,"type":"log"}"#, ""]
        for text in bad {
            #expect(throws: AgentItem.Malformed.self, "\(text)") { try AgentItem(line: Array(text.utf8)) }
        }
    }

    @Test func theSplitterJoinsLinesCutAcrossChunks() throws {
        let lines = (0..<50).flatMap { AgentItem.line(LogItem(type: .log, message: "line \($0)"), seq: UInt64($0), next: UInt64($0) + 1, time: 1) }
        for size in [1, 7, 64, lines.count] {
            var splitter = AgentItemSplitter()
            var items: [AgentItem] = []
            for start in stride(from: 0, to: lines.count, by: size) {
                items += try splitter.items(in: ByteBuffer(bytes: lines[start..<min(start + size, lines.count)]))
            }
            var cut = splitter
            _ = try cut.items(in: ByteBuffer(string: #"{"seq":1"#))
            #expect(throws: AgentItem.Malformed.self) { try cut.finish() }
            try splitter.finish()
            #expect(items.map(\.seq) == Array(0..<50))
            #expect(try items.map { try $0.decoded().message } == (0..<50).map { "line \($0)" })
        }
    }
}

/// Version skew: a gateway reads what an agent one version newer sends, as the internal API's
/// rule says (docs/agent-api.md): fields it does not know are ignored, and a ring of a kind it
/// does not know is left out, not the whole listing.
@Suite(.timeLimit(.minutes(3))) struct AgentWireSkewTests {
    @Test func aNewerAgentsInventoryIsRead() throws {
        func ring(_ id: String, kind: String) -> String {
            """
            {"id": "\(id)", "node": "node-1", "tool": "demo", "kind": "\(kind)", "name": "backup", "run": "backup-1",
             "segment": 0, "state": "finished", "disk_bytes": 10, "prefix_capacity": 1, "suffix_capacity": 2,
             "records_written": 3, "bytes_written": 4, "rolled_records": 0, "rolled_bytes": 0, "dropped_records": 0,
             "dropped_bytes": 0, "truncated_records": 0, "first_seq": 0, "end_seq": 3,
             "exit_code": 0, "cpu_seconds": 12.5, "labels": {"team": "x"}}
            """
        }
        let inventory = """
        {"messages": {"info": [], "warning": [], "error": [], "debug": ["new"]}, "node": "node-1", "instance": "i1",
         "version": 7, "full": true, "removed": [], "compression": "zstd",
         "rings": [\(ring("r1", kind: "scheduled")), \(ring("r2", kind: "cronjob"))]}
        """
        let decoded = try JSONDecoder().decode(AgentInventory.self, from: Data(inventory.utf8))
        #expect(decoded.rings.map(\.id) == ["r1"])
        // A ring of a known kind that breaks the contract fails the listing, not silently.
        let broken = inventory.replacingOccurrences(of: #""segment": 0"#, with: #""segment": "zero""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AgentInventory.self, from: Data(broken.utf8)) }
        #expect(decoded.rings.first?.kind == .scheduled)
        #expect(decoded.rings.first?.exitCode == 0)
        #expect(decoded.version == 7)
    }
}

/// The typed client against what is not there.
@Suite(.timeLimit(.minutes(1))) struct AgentClientTests {
    /// A refused connection is said at once (a stopped agent), not after the connect timeout.
    @Test func aRefusedConnectionFailsAtOnce() async throws {
        let client = AgentClient(token: nil)
        // A port that was just free: bound, then closed.
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(socket.localAddress?.port)
        try await socket.close()
        // The refusal itself, not the connect timeout (3 s) that retrying would end in: told
        // by the error, since a loaded machine makes any time limit flaky.
        do {
            _ = try await client.inventory(AgentEndpoint(node: "gone", url: "http://127.0.0.1:\(port)"), since: nil)
            Issue.record("a closed port answered")
        } catch let error as AgentCallError {
            #expect(error.status == nil)
            #expect(error.description.hasPrefix("gone is unreachable: "))
            #expect(error.message.lowercased().contains("refused"), "\(error.message)")
            #expect(!error.message.contains("connectTimeout"), "\(error.message)")
        }
        await client.shutdown()
    }
}
