import Foundation
import Testing
@testable import LogModel

@Suite(.timeLimit(.minutes(3))) struct NanoTimeTests {
    @Test func parsesAndFormatsRFC3339WithNanoseconds() {
        let nanos = NanoTime.parse("2026-11-22T10:00:00.123456789Z")
        #expect(nanos == 1_795_341_600_123_456_789)
        #expect(NanoTime.format(1_795_341_600_123_456_789) == "2026-11-22T10:00:00.123456789Z")
        #expect(NanoTime.parse("2026-11-22T12:00:00.1+02:00") == 1_795_341_600_100_000_000)
        // Every Int64 formats (a client's time may be at either end); all but the last second
        // before Int64.min read back.
        #expect(NanoTime.format(.min) == "1677-09-21T00:12:43.145224192Z")
        for nanos in [Int64.min + 1_000_000_000, -1, 0, Int64.max] {
            #expect(NanoTime.parse(NanoTime.format(nanos)) == nanos, "\(nanos)")
        }
        #expect(NanoTime.parse("1970-01-01T00:00:00Z") == 0)
        #expect(NanoTime.format(0) == "1970-01-01T00:00:00.000000000Z")
        #expect(NanoTime.format(-1) == "1969-12-31T23:59:59.999999999Z")
        #expect(NanoTime.parse("2024-02-29T23:59:59.999999999999Z") == NanoTime.parse("2024-02-29T23:59:59.999999999Z"))
    }

    @Test(arguments: ["", "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                      "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk", "9999999-01-01T00:00:00Z", "x026-11-22T10:00:00Z"])
    func rejectsWhatIsNotRFC3339(text: String) {
        #expect(NanoTime.parse(text) == nil)
    }

    @Test func roundTripsAcrossCenturies() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let nanos = Int64.random(in: -2_000_000_000_000_000_000...4_000_000_000_000_000_000, using: &random)
            #expect(NanoTime.parse(NanoTime.format(nanos)) == nanos)
        }
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        for seconds in stride(from: Int64(-5_000_000_000), to: 5_000_000_000, by: 123_456_789) {
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(NanoTime.parse(text) == seconds * 1_000_000_000)
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct TimeSpecTests {
    @Test func resolvesDurationsTimesAndNanoseconds() {
        let now: Int64 = 10_000_000_000_000
        #expect(TimeSpec.resolve("90s", now: now) == now - 90_000_000_000)
        #expect(TimeSpec.resolve("1h30m", now: now) == now - 5_400_000_000_000)
        #expect(TimeSpec.resolve("3d", now: now) == now - 259_200_000_000_000)
        #expect(TimeSpec.resolve("1970-01-01T00:00:01Z", now: now) == 1_000_000_000)
        #expect(TimeSpec.resolve("1234", now: now) == 1234)
        for bad in ["", "10", "m", "10x", "-5m", "1.5h", "99999999999999999999s"] where bad != "10" {
            #expect(TimeSpec.resolve(bad, now: now) == nil, "\(bad)")
        }
        #expect(TimeSpec.duration("10") == nil)
    }
}

/// Sizes and ratios as `admin nodes` shows them: a ratio only where it says how logs are kept.
@Suite(.timeLimit(.minutes(3))) struct ByteCountTests {
    @Test func ratiosNeedAMebibyteOnDisk() {
        #expect(ByteCount.ratio(5_400, 140 * 1024) == "-")  // the files' headers, not the logs
        #expect(ByteCount.ratio(0, 0) == "-")
        #expect(ByteCount.ratio(6 << 20, 1 << 20) == "6.0x")
        #expect(ByteCount.text(140 * 1024) == "140.0 KiB")
    }
}

/// What a typo most likely meant: near enough to be one, never just any other name.
@Suite(.timeLimit(.minutes(3))) struct NearestNameTests {
    @Test func suggestsTheNameATypoMeant() {
        #expect(NearestName.nearest(to: "wroker", among: ["worker", "web", "tick"]) == "worker")
        #expect(NearestName.nearest(to: "jbo", among: ["job", "runs", "list"]) == "job")
        #expect(NearestName.nearest(to: "tuck", among: ["tick", "tack"]) == "tack")  // a tie goes to the first by name
        #expect(NearestName.nearest(to: "workr", among: ["worker", "wonder"]) == "worker")
    }

    @Test func suggestsNothingFarOrSame() {
        #expect(NearestName.nearest(to: "zzz", among: ["job", "runs"]) == nil)
        #expect(NearestName.nearest(to: "backup", among: ["worker", "web"]) == nil)
        #expect(NearestName.nearest(to: "job", among: ["job"]) == nil)
        #expect(NearestName.nearest(to: "x", among: [String]()) == nil)
    }

    @Test func countsEdits() {
        func distance(_ a: String, _ b: String) -> Int { NearestName.editDistance(Array(a.utf8), Array(b.utf8)) }
        #expect(distance("", "abc") == 3)
        #expect(distance("kitten", "sitting") == 3)
        #expect(distance("ab", "ba") == 1)
        #expect(distance("same", "same") == 0)
    }
}

@Suite(.timeLimit(.minutes(3))) struct LogItemTests {
    @Test func encodesNDJSONThatDecodesBack() throws {
        let item = LogItem(type: .log, datetime: "2026-11-22T10:00:00.000000001Z", stream: "stderr",
                           message: "quote \" backslash \\ newline \n tab \t bell \u{7} é", partial: true,
                           pod: "p", container: "c", run: "r", cursor: "r1.x.1",
                           fields: ["n": .number(3), "ok": .bool(true), "list": .array([.string("a"), .null])])
        let line = item.ndjson()
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(!line.dropLast().contains(UInt8(ascii: "\n")))
        let decoded = try JSONDecoder().decode(LogItem.self, from: Data(line))
        #expect(decoded == item)
    }

    @Test func invalidUTF8KeepsItsBytesInBase64() throws {
        let bytes: [UInt8] = [0x61, 0xff, 0xfe, 0x62]
        let item = LogItem.line(bytes, datetime: "2026-11-22T10:00:00.000000000Z", stream: "stdout")
        #expect(item.message == "a\u{FFFD}\u{FFFD}b")
        #expect(item.messageBase64.flatMap { Base64.decode($0) } == bytes)
        #expect(LogItem.line(Array("fine".utf8), datetime: "x", stream: "stdout").messageBase64 == nil)
        for length in 0..<10 {
            let data = (0..<length).map { UInt8(($0 * 91 + 250) & 0xff) }
            #expect(Base64.encode(data) == Data(data).base64EncodedString())
            #expect(Base64.decode(Base64.encode(data)) == data)
            let urlSafe = Base64.encode(data, urlSafe: true)
            #expect(urlSafe == Data(data).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: ""))
            #expect(Base64.decode(urlSafe, urlSafe: true) == data)
        }
        // Each alphabet alone: a cursor is never read from the other's characters.
        #expect(Base64.decode("ab+/", urlSafe: true) == nil)
        #expect(Base64.decode("ab-_") == nil)
        #expect(Base64.decode("a") == nil)
    }
}

@Suite(.timeLimit(.minutes(3))) struct LogItemEncodingTests {
    /// What Python's `splitlines` breaks at (the platform's clients read streams with it) never
    /// stands raw in a line of JSON; everything else of UTF-8 passes as it is.
    @Test func lineSeparatorsAreEscaped() throws {
        let item = LogItem(type: .log, message: "a\u{2028}b\u{2029}c\u{85}d\u{0B}e é \u{20AC} \u{1F600}")
        let line = String(decoding: item.ndjson(), as: UTF8.self)
        #expect(line.contains(#""a\u2028b\u2029c\u0085d\u000be é € 😀""#))
        #expect(line.dropLast().split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count == 1)
        #expect(try JSONDecoder().decode(LogItem.self, from: Data(line.utf8)).message == item.message)
    }

    /// Whatever a string holds, it reads back the same, through `JSONDecoder` and through
    /// `JSONMembers`, with no raw control character or line separator in the line.
    @Test func anyStringRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "plain words ", "\"", "\\", "/", "\n", "\r\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{85}", "\u{2028}",
                      "\u{2029}", "é", "\u{20AC}", "\u{1F600}", "\u{E2}\u{80}", "\u{C2}"]
        for _ in 0..<500 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("message", text)
            writer.endObject()
            #expect(try JSONDecoder().decode([String: String].self, from: Data(writer.bytes)) == ["message": text])
            var read: [String: String] = [:]
            try writer.bytes.withUnsafeBytes { try JSONMembers.read($0) { name, value in read[name.text] = value.text } }
            #expect(read == ["message": text])
            #expect(!writer.bytes.contains { $0 < 0x20 || $0 == 0x7f })
            #expect(String(decoding: writer.bytes, as: UTF8.self).split(whereSeparator: \.isNewline).count == 1)
        }
    }

    /// `JSONMembers` reads what the entries of a read hold, skips nested values, and refuses
    /// what is not one JSON object.
    @Test func membersAreReadInOnePass() throws {
        let line = #" {"type":"log", "\u006e":12,"neg":-1.5e3,"ok":true,"no":false,"none":null,"f":{"a":[1,{"b":"}"}]},"s":"\ud83d\ude00\u00e9\/"} "#
        var seen: [String] = []
        try Array(line.utf8).withUnsafeBytes { bytes in
            try JSONMembers.read(bytes) { name, value in
                switch value {
                case .string: seen.append("\(name.text)=\(value.text ?? "?")")
                case let .number(raw): seen.append("\(name.text)#\(String(decoding: raw, as: UTF8.self)),\(value.unsigned.map(String.init) ?? "-")")
                case let .bool(flag): seen.append("\(name.text)?\(flag)")
                case .null: seen.append("\(name.text)~")
                case .nested: seen.append("\(name.text){}")
                }
            }
        }
        #expect(seen == ["type=log", "n#12,12", "neg#-1.5e3,-", "ok?true", "no?false", "none~", "f{}", "s=😀é/"])
        for bad in ["", "[]", "{", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1} x"#, "{\"a\":\"\u{1}\"}", #"{"a":tru}"#, #"{"a":{"b":1}"#] {
            #expect(throws: JSONMembers.Malformed.self, "\(bad)") {
                try Array(bad.utf8).withUnsafeBytes { try JSONMembers.read($0) { _, _ in } }
            }
        }
        for bad in [#"\x"#, #"\u12"#, #"\ud83d"#, #"\ud83d\u0041"#, #"\udc00"#] {
            #expect(Array(bad.utf8).withUnsafeBytes { JSONMembers.unescape($0) } == nil, "\(bad)")
        }
    }

    /// A pushed line's fields are members of the entry, and read back as fields.
    @Test func fieldsAreMembers() throws {
        let item = LogItem(type: .log, message: "m", run: "r", fields: ["user_name": .string("alice"), "run": .string("not this")])
        let line = String(decoding: item.ndjson(), as: UTF8.self)
        #expect(line.contains(#""user_name":"alice""#))
        #expect(!line.contains("not this"))
        let decoded = try JSONDecoder().decode(LogItem.self, from: Data(line.utf8))
        #expect(decoded.fields == ["user_name": .string("alice")])
        #expect(decoded.run == "r")
    }
}
