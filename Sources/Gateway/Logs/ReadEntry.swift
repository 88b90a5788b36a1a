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
    var cursor: String?
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

    /// The entry as one JSON object.
    func write(to writer: inout JSONWriter) {
        switch body {
        case let .agent(item):
            item.write(to: &writer) { writer in
                writer.field("datetime", datetime)
                writer.field("cursor", cursor)
                for label in labels { writer.field(label.name, label.value) }
            }
        case let .own(item):
            writer.beginObject()
            item.writeMembers(to: &writer)
            writer.endObject()
        }
    }

    /// One line of NDJSON, newline included.
    func ndjson() -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// The entry decoded, for what needs its message as text (text of several rings).
    func decoded() throws -> LogItem {
        switch body {
        case let .agent(item): try item.decoded()
        case let .own(item): item
        }
    }
}
