import AgentWire
import LogModel

/// An entry of a read as the gateway hands it out: an agent's item passed on as the bytes the
/// agent wrote, with what only the gateway knows added (its cursor, the time of a gap that has
/// none, the tool-wide read's labels), or a message of the gateway's own.
struct ReadEntry: Sendable {
    enum Body: Sendable {
        case agent(AgentItem)
        case own(LogItem)
    }

    var body: Body
    /// Where a client resumes after it: made into text only for what is written with it
    /// (`StreamEncoder` says which entries are).
    var cursor: CompositeCursor?
    /// The time of an agent's item that has none of its own (a gap of lines that rolled over).
    var datetime: String?
    /// Members added to an agent's item, after its own.
    var labels: [(name: String, value: String)] = []

    init(_ item: AgentItem) { body = .agent(item) }
    init(_ item: LogItem) { body = .own(item) }

    /// A message of the gateway's own, with the four members every entry has.
    static func message(_ text: String, level: String) -> ReadEntry {
        ReadEntry(LogItem(type: .message, datetime: NanoTime.format(NanoTime.now()), message: text, pod: "", container: "", level: level))
    }

    static func heartbeat() -> ReadEntry { ReadEntry(LogItem(type: .heartbeat, datetime: NanoTime.format(NanoTime.now()))) }

    var type: LogItem.Kind {
        switch body {
        case let .agent(item): item.type
        case let .own(item): item.type
        }
    }

    /// The entry as one JSON object, with its cursor unless `withCursor` is false.
    func write(to writer: inout JSONWriter, withCursor: Bool = true) {
        switch body {
        case let .agent(item):
            item.write(to: &writer) { writer in
                writer.field("datetime", datetime)
                if withCursor { writer.field("cursor", cursor?.text) }
                for label in labels { writer.field(label.name, label.value) }
            }
        case let .own(item):
            writer.beginObject()
            item.writeMembers(to: &writer)
            writer.endObject()
        }
    }

    /// The line of a log entry as `text/plain` has it: its bytes, and a newline unless the
    /// runtime split it there; nil for anything else. An agent's item is read for its three
    /// members with no item decoded (a merged download writes a million of these).
    func text() -> [UInt8]? {
        guard type == .log else { return nil }
        var message: [UInt8]?
        var partial = false
        switch body {
        case let .agent(item):
            do {
                try item.readMembers { name, value in
                    if name.is("message"), message == nil, case let .string(bytes, escaped) = value {
                        message = escaped ? JSONMembers.unescape(bytes).map { Array($0.utf8) } : Array(bytes)
                    } else if name.is("message_b64"), case let .string(bytes, false) = value {
                        // The raw bytes, when the text could not hold them: they win.
                        message = Base64.decode(String(decoding: bytes, as: UTF8.self)) ?? message
                    } else if name.is("partial"), case let .bool(value) = value {
                        partial = value
                    }
                }
            } catch {
                return nil
            }
        case let .own(item):
            message = item.messageBase64.flatMap { Base64.decode($0) } ?? item.message.map { Array($0.utf8) }
            partial = item.partial == true
        }
        // A line without a message (an event that had none) is an empty line, as before.
        var line = message ?? []
        if !partial { line.append(UInt8(ascii: "\n")) }
        return line
    }
}
