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

    enum CodingKeys: String, CodingKey {
        case type, datetime, stream, message, partial, truncated, pod, container, run, node, cursor, records, bytes, reason, level, fields
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

    /// A log line from raw bytes: text with invalid UTF-8 replaced, and the bytes in base64 only
    /// when the text could not hold them exactly.
    public static func line(_ payload: [UInt8], datetime: String, stream: String) -> LogItem {
        if let text = String(validating: payload, as: UTF8.self) {
            return LogItem(type: .log, datetime: datetime, stream: stream, message: text)
        }
        return LogItem(type: .log, datetime: datetime, stream: stream, message: String(decoding: payload, as: UTF8.self),
                       messageBase64: Base64.encode(payload))
    }

    /// One line of NDJSON, newline included. Written by hand: the agent encodes every line it
    /// serves, and this is several times faster than `JSONEncoder`.
    public func ndjson() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
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
        if let fields {
            writer.key("fields")
            JSONValue.object(fields).write(to: &writer)
        }
        writer.endObject()
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }
}
