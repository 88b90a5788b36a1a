import Foundation
import LogModel

/// The lines of a push (`POST .../source/{name}/log`), checked by one rule on both sides: by
/// the gateway before any agent sees them, and by the agent that keeps them. Bounded, with
/// fields of their own that cannot pass for the API's, and, on the sources the platform's logs
/// CLI reads back as events, with every field it formats for their `event_type` (a missing one
/// would crash it).
public enum PushedLines {
    /// A request's body, at most.
    public static let maxBodyBytes = 1 << 20
    public static let maxLines = 1000
    public static let maxFields = 32
    public static let maxLineBytes = 64 * 1024
    /// How far ahead of the checking side's clock a line's own time may be.
    public static let maxSkew: Int64 = 300_000_000_000
    /// The fields the logs CLI formats, by source and event type.
    static let eventFields: [String: [String: [String]]] = [
        "jobs-api": [
            "created": ["job_name", "user_name", "message_format"], "updated": ["job_name", "user_name", "message_format"],
            "deleted": ["job_name", "user_name", "message_format"], "restarted": ["job_name", "user_name"],
        ],
        "deployments": [
            "created": ["deployment_id", "description", "user_name", "builds", "jobs"],
            "succeeded": ["deployment_id", "description", "builds", "jobs"],
            "failed": ["deployment_id", "description", "builds", "jobs", "message_format"],
        ],
    ]

    /// Why a push is refused: the envelope's message, and whether it is too large (413) or
    /// malformed (400).
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var tooLarge: Bool
        public var description: String

        static func invalid(_ text: String) -> Refusal { Refusal(tooLarge: false, description: text) }
        static func tooLarge(_ text: String) -> Refusal { Refusal(tooLarge: true, description: text) }
    }

    /// The lines of a body, each checked: at most `maxLines` objects with a `message` string.
    /// The agent decodes with `now` nil: a line the gateway let through by its clock is not
    /// refused by another's (the agent stamps one ahead of its own clock with its arrival).
    public static func decode(_ body: [UInt8], source: String, now: Int64?) throws(Refusal) -> [[String: JSONValue]] {
        guard let lines = try? JSONDecoder().decode([[String: JSONValue]].self, from: Data(body)) else {
            throw .invalid("the body must be a JSON array of objects, each with a \"message\" string")
        }
        try check(lines, source: source, now: now)
        return lines
    }

    /// `now`: the checking side's clock, which a line's `datetime` may not be ahead of by more
    /// than `maxSkew`; nil checks the time's form only.
    public static func check(_ lines: [[String: JSONValue]], source: String, now: Int64?) throws(Refusal) {
        guard lines.count <= maxLines else { throw .tooLarge("at most \(maxLines) lines per request, not \(lines.count)") }
        for (index, line) in lines.enumerated() {
            let which = lines.count == 1 ? "the line" : "line \(index)"
            let own = line.keys.filter { $0 != "message" && $0 != "datetime" }
            guard own.count <= maxFields else {
                throw .tooLarge("\(which): at most \(maxFields) fields besides message and datetime, not \(own.count)")
            }
            for name in own.sorted() {
                guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0.isLowercaseOrDigit }) else {
                    throw .invalid("\(which): a field name is 1 to 64 of a-z, 0-9 and _, not \(name.prefix(80))")
                }
                guard !LogItem.memberNames.contains(name), name != "source" else {
                    throw .invalid("\(which): \(name) is a name the API itself uses")
                }
            }
            if let datetime = line["datetime"] {
                guard case let .string(text) = datetime, let time = NanoTime.parse(text) else {
                    throw .invalid("\(which): datetime must be an RFC 3339 time with Z or an offset")
                }
                if let now, time > now + maxSkew { throw .invalid("\(which): datetime is in the future: \(text)") }
            }
            guard case .string? = line["message"] else { throw .invalid("\(which): message must be a string") }
            if let events = eventFields[source] {
                let kinds = events.keys.sorted().joined(separator: ", ")
                guard case let .string(kind)? = line["event_type"], let needed = events[kind] else {
                    throw .invalid("\(which): source \(source) holds events: event_type must be one of \(kinds)")
                }
                if let missing = needed.first(where: { line[$0] == nil }) {
                    throw .invalid("\(which): a \(kind) event of source \(source) needs \(needed.joined(separator: ", ")); \(missing) is missing")
                }
            }
            guard let encoded = try? JSONEncoder().encode(line), encoded.count <= maxLineBytes else {
                throw .tooLarge("\(which): at most \(maxLineBytes) bytes encoded")
            }
        }
    }
}

private extension UInt8 {
    var isLowercaseOrDigit: Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }
}
