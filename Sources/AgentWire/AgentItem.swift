import Foundation
import LogModel
import NIOCore

/// One line of a ring read (`application/x-ndjson`): a log item in the public API's shape, led
/// by what the gateway needs to merge, resume and follow without decoding it:
///
///     {"seq":41,"next":43,"time":1795342599999000000,"type":"log","datetime":"…","message":"…",…}
///
/// `seq` is the position of the item's first record and `next` the position after its last (a
/// line the runtime split spans several records); `time` is the time the item is shown at, in
/// nanoseconds, `null` for a gap of lines that rolled over, which has none. The three come first
/// and in this order, then `type`; the gateway hands out `{` and the rest, with what only it
/// knows (the cursor) added. A heartbeat (a quiet follow) is an item of type `heartbeat` at the
/// position the follow has reached.
public struct AgentItem: Sendable {
    public let seq: UInt64
    public let next: UInt64
    public let time: Int64?
    public let type: LogItem.Kind
    /// A slice of the chunk of the answer it came in (`AgentItemSplitter`): no array a line.
    private let line: ArraySlice<UInt8>
    /// Where the item's own members start in `line` (at `"type"`).
    private let members: Int

    /// A line that does not start as the contract says: the agent and the gateway disagree.
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The line for `item`, newline included.
    public static func line(_ item: LogItem, seq: UInt64, next: UInt64, time: Int64?) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("seq", seq)
        writer.field("next", next)
        writer.key("time")
        writer.raw(time.map(String.init) ?? "null")
        item.writeMembers(to: &writer)
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// The line of a log record of a container's ring, written from its bytes onto `writer`:
    /// what `line(_:seq:next:time:)` writes for `LogItem.line` with the ring's `source` members
    /// (`sourceMembers`), but with no item, string or array made for it. Every line a download
    /// in NDJSON hands out is written here.
    public static func writeLog(seq: UInt64, next: UInt64, time: Int64, stream: String, payload: [UInt8], partial: Bool,
                                truncated: Bool, source: [UInt8], to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("seq", seq)
        writer.field("next", next)
        writer.field("time", time)
        writer.field("type", LogItem.Kind.log.rawValue)
        writer.key("datetime")
        writer.time(time)
        writer.field("stream", stream)
        writer.key("message")
        if UTF8Check.isASCII(payload) || String(validating: payload, as: UTF8.self) != nil {
            payload.withUnsafeBytes { writer.string(utf8: $0) }
        } else {
            writer.string(String(decoding: payload, as: UTF8.self))
            writer.field("message_b64", Base64.encode(payload))
        }
        if partial { writer.field("partial", true) }
        if truncated { writer.field("truncated", true) }
        writer.json(source)
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
    }

    /// A ring's `pod`, `container`, `run` and `node` members, once for all its lines
    /// (`writeLog`): `,"pod":"…",…`, in the order `LogItem` writes them.
    public static func sourceMembers(pod: String, container: String, run: String?, node: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("pod", pod)
        writer.field("container", container)
        writer.field("run", run)
        writer.field("node", node)
        return [UInt8(ascii: ",")] + writer.bytes.dropFirst()
    }

    /// Reads a line (without its newline).
    public init(line: [UInt8]) throws(Malformed) {
        try self.init(line: line[...])
    }

    public init(line: ArraySlice<UInt8>) throws(Malformed) {
        var scanner = Scanner(bytes: line, offset: line.startIndex)
        try scanner.expect(#"{"seq":"#)
        seq = try scanner.unsigned()
        try scanner.expect(#","next":"#)
        next = try scanner.unsigned()
        try scanner.expect(#","time":"#)
        time = try scanner.signedOrNull()
        try scanner.expect(",")
        members = scanner.offset
        try scanner.expect(#""type":""#)
        guard let type = LogItem.Kind(rawValue: try scanner.word()), line.last == UInt8(ascii: "}") else {
            throw Malformed(description: "not an item of this API: \(String(decoding: line.prefix(120), as: UTF8.self))")
        }
        self.type = type
        self.line = line
    }

    /// The item as the public API hands it out: its members, and `adding` members of its own
    /// (the gateway's cursor; a label) after them, into `writer` as one object.
    public func write(to writer: inout JSONWriter, adding: (inout JSONWriter) -> Void = { _ in }) {
        writer.beginObject()
        writer.json(line[members..<(line.endIndex - 1)])
        adding(&writer)
        writer.endObject()
    }

    /// Each member of the item's line, as `JSONMembers` reads them (`seq`, `next` and `time` too).
    public func readMembers(_ member: (JSONMembers.Name, JSONMembers.Value) throws -> Void) throws {
        try line.withUnsafeBytes { try JSONMembers.read($0, member) }
    }

    /// The item decoded: for what looks into it (a filter on an event's fields, text of several rings).
    public func decoded() throws -> LogItem {
        var writer = JSONWriter()
        write(to: &writer)
        return try JSONDecoder().decode(LogItem.self, from: Data(writer.bytes))
    }

    private struct Scanner {
        let bytes: ArraySlice<UInt8>
        var offset: Int

        mutating func expect(_ text: StaticString) throws(Malformed) {
            guard bytes.hasBytes(of: text, at: offset) else { throw malformed() }
            offset += text.utf8CodeUnitCount
        }

        mutating func unsigned() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            let start = offset
            while offset < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times.addingReportingOverflow(UInt64(bytes[offset] - UInt8(ascii: "0")))
                guard !overflow, !carry else { throw malformed() }
                value = sum
                offset += 1
            }
            guard offset > start else { throw malformed() }
            return value
        }

        mutating func signedOrNull() throws(Malformed) -> Int64? {
            if bytes[offset...].starts(with: "null".utf8) {
                offset += 4
                return nil
            }
            let negative = offset < bytes.endIndex && bytes[offset] == UInt8(ascii: "-")
            if negative { offset += 1 }
            let magnitude = try unsigned()
            guard magnitude <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) else { throw malformed() }
            return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
        }

        /// Letters up to the closing quote of a string without escapes.
        mutating func word() throws(Malformed) -> String {
            guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\"")) else { throw malformed() }
            defer { offset = end + 1 }
            return String(decoding: bytes[offset..<end], as: UTF8.self)
        }

        func malformed() -> Malformed {
            Malformed(description: "not an item of this API: \(String(decoding: bytes.prefix(120), as: UTF8.self))")
        }
    }
}

/// Cuts an answer's body, chunk by chunk, into items at its newlines.
public struct AgentItemSplitter {
    private var pending: [UInt8] = []
    /// A line longer than this is not an item of this API (a joined line is at most 256 KiB of
    /// message, which JSON escapes to at most six times that).
    static let maxLineBytes = 2 << 20

    public init() {}

    /// At the end of an answer: one that stops inside a line was cut short.
    public func finish() throws(AgentItem.Malformed) {
        guard pending.isEmpty else { throw AgentItem.Malformed(description: "an answer cut short inside a line") }
    }

    public mutating func items(in chunk: ByteBuffer) throws(AgentItem.Malformed) -> [AgentItem] {
        // One array for the chunk (and the line begun in the one before); each item is a
        // slice of it. A generic search of the buffer's view was a tenth of a page's cost, an
        // array a line most of the rest.
        var bytes = pending
        pending = []
        chunk.withUnsafeReadableBytes { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        let ends = bytes.withUnsafeBytes { raw -> [Int] in
            var ends: [Int] = []
            var start = 0
            while let newline = raw.firstIndex(of: UInt8(ascii: "\n"), from: start) {
                ends.append(newline)
                start = newline + 1
            }
            return ends
        }
        let rest = (ends.last ?? -1) + 1
        guard bytes.count - rest <= Self.maxLineBytes else {
            throw AgentItem.Malformed(description: "a line longer than \(Self.maxLineBytes) bytes")
        }
        pending = Array(bytes[rest...])
        var items: [AgentItem] = []
        items.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            items.append(try AgentItem(line: bytes[start..<end]))
            start = end + 1
        }
        return items
    }
}
