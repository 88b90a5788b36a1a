/// What reads return, one object each (DESIGN.md, "log item"): the agent's NDJSON, the gateway's
/// NDJSON, SSE and JSON pages, and what the CLI prints, all carry this shape.
public struct LogItem: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case log, gap, message, heartbeat
    }

    public var type: Kind
    /// RFC 3339 with nanoseconds.
    public var datetime: String?
    /// `stdout`, `stderr` or `other`.
    public var stream: String?
    /// The line as UTF-8 text, invalid bytes replaced; or a message's text.
    public var message: String?
    /// The raw bytes, base64, only when they were not valid UTF-8.
    public var messageBase64: String?
    public var partial: Bool?
    public var truncated: Bool?
    public var pod: String?
    public var container: String?
    public var run: String?
    /// The node that holds it (the gateway adds it).
    public var node: String?
    public var cursor: String?
    /// Gaps: lines and bytes not kept here, and why (`rolled over`, `rate-limited`, `corrupt`).
    public var records: UInt64?
    public var bytes: UInt64?
    public var reason: String?
    /// Messages: `info`, `warning` or `error`.
    public var level: String?
    /// Fields a pushed line carried besides `message` and `datetime`, kept as given.
    public var fields: [String: JSONValue]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, datetime, stream, message, partial, truncated, pod, container, run, node, cursor, records, bytes, reason, level
        case messageBase64 = "message_b64"
    }

    public init(type: Kind, datetime: String? = nil, stream: String? = nil, message: String? = nil,
                messageBase64: String? = nil, partial: Bool? = nil, truncated: Bool? = nil, pod: String? = nil,
                container: String? = nil, run: String? = nil, node: String? = nil, cursor: String? = nil, records: UInt64? = nil,
                bytes: UInt64? = nil, reason: String? = nil, level: String? = nil, fields: [String: JSONValue]? = nil) {
        self.type = type
        self.datetime = datetime
        self.stream = stream
        self.message = message
        self.messageBase64 = messageBase64
        self.partial = partial
        self.truncated = truncated
        self.pod = pod
        self.container = container
        self.run = run
        self.node = node
        self.cursor = cursor
        self.records = records
        self.bytes = bytes
        self.reason = reason
        self.level = level
        self.fields = fields
    }

    /// Decodes an entry as `ndjson()` writes it: members it does not name are the fields of a
    /// pushed line.
    public init(from decoder: Decoder) throws {
        let known = try decoder.container(keyedBy: CodingKeys.self)
        self.init(type: try known.decode(Kind.self, forKey: .type))
        datetime = try known.decodeIfPresent(String.self, forKey: .datetime)
        stream = try known.decodeIfPresent(String.self, forKey: .stream)
        message = try known.decodeIfPresent(String.self, forKey: .message)
        messageBase64 = try known.decodeIfPresent(String.self, forKey: .messageBase64)
        partial = try known.decodeIfPresent(Bool.self, forKey: .partial)
        truncated = try known.decodeIfPresent(Bool.self, forKey: .truncated)
        pod = try known.decodeIfPresent(String.self, forKey: .pod)
        container = try known.decodeIfPresent(String.self, forKey: .container)
        run = try known.decodeIfPresent(String.self, forKey: .run)
        node = try known.decodeIfPresent(String.self, forKey: .node)
        cursor = try known.decodeIfPresent(String.self, forKey: .cursor)
        records = try known.decodeIfPresent(UInt64.self, forKey: .records)
        bytes = try known.decodeIfPresent(UInt64.self, forKey: .bytes)
        reason = try known.decodeIfPresent(String.self, forKey: .reason)
        level = try known.decodeIfPresent(String.self, forKey: .level)
        let all = try decoder.container(keyedBy: AnyKey.self)
        var fields: [String: JSONValue] = [:]
        for key in all.allKeys where !Self.memberNames.contains(key.stringValue) {
            fields[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
        self.fields = fields.isEmpty ? nil : fields
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The names of an item's own members, which a pushed line's fields may not take.
    public static let memberNames: Set<String> = Set(CodingKeys.allCases.map(\.stringValue))

    /// A log line from raw bytes: text with invalid UTF-8 replaced, and the bytes in base64 only
    /// when the text could not hold them exactly.
    public static func line(_ payload: [UInt8], datetime: String, stream: String) -> LogItem {
        if let text = String(validating: payload, as: UTF8.self) {
            return LogItem(type: .log, datetime: datetime, stream: stream, message: text)
        }
        return LogItem(type: .log, datetime: datetime, stream: stream, message: String(decoding: payload, as: UTF8.self),
                       messageBase64: Base64.encode(payload))
    }

    /// One line of NDJSON, newline included.
    public func ndjson() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writeMembers(to: &writer)
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// The item's members, `type` first, into an object `writer` has begun. By hand: the agent
    /// writes every line it serves this way, several times faster than `JSONEncoder`.
    public func writeMembers(to writer: inout JSONWriter) {
        writer.field("type", type.rawValue)
        writer.field("datetime", datetime)
        writer.field("stream", stream)
        writer.field("message", message)
        writer.field("message_b64", messageBase64)
        if partial == true { writer.field("partial", true) }
        if truncated == true { writer.field("truncated", true) }
        writer.field("pod", pod)
        writer.field("container", container)
        writer.field("run", run)
        writer.field("node", node)
        writer.field("cursor", cursor)
        writer.field("records", records)
        writer.field("bytes", bytes)
        writer.field("reason", reason)
        writer.field("level", level)
        // A pushed line's fields are members of the entry, as the platform's clients read them;
        // the names of the item's own members are refused at push, and win here.
        for key in (fields ?? [:]).keys.sorted() where !Self.memberNames.contains(key) {
            writer.key(key)
            fields![key]!.write(to: &writer)
        }
    }
}
