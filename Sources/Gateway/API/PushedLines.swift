import HTTPEnvelope
import Foundation
import LogModel

/// The lines of a push, checked before any agent sees them: bounded, with fields of their own
/// that cannot pass for the API's, and, on the sources the platform's logs CLI reads back as
/// events, with every field it formats for their `event_type` (a missing one would crash it).
enum PushedLines {
    static let maxFields = 32
    static let maxLineBytes = 64 * 1024
    /// How far ahead of the gateway's clock a line's own time may be.
    static let maxSkew: Int64 = 300_000_000_000
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

    static func check(_ lines: [[String: JSONValue]], source: String, now: Int64) throws {
        // A custom source of that name would read back as the platform's.
        guard !ToolLogScope.sourceNames.contains(source) || ToolLogScope.eventSources[source] != nil else {
            throw EnvelopeError(.badRequest, "\(source) is the name of a source of the tool's log; push to another name")
        }
        for (index, line) in lines.enumerated() {
            let which = lines.count == 1 ? "the line" : "line \(index)"
            let own = line.keys.filter { $0 != "message" && $0 != "datetime" }
            guard own.count <= maxFields else {
                throw EnvelopeError(.contentTooLarge, "\(which): at most \(maxFields) fields besides message and datetime, not \(own.count)")
            }
            for name in own.sorted() {
                guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0.isLowercaseOrDigit }) else {
                    throw EnvelopeError(.badRequest, "\(which): a field name is 1 to 64 of a-z, 0-9 and _, not \(name.prefix(80))")
                }
                guard !LogItem.memberNames.contains(name), name != "source" else {
                    throw EnvelopeError(.badRequest, "\(which): \(name) is a name the API itself uses")
                }
            }
            if let datetime = line["datetime"] {
                guard case let .string(text) = datetime, let time = NanoTime.parse(text) else {
                    throw EnvelopeError(.badRequest, "\(which): datetime must be an RFC 3339 time with Z or an offset")
                }
                guard time <= now + maxSkew else { throw EnvelopeError(.badRequest, "\(which): datetime is in the future: \(text)") }
            }
            guard case .string? = line["message"] else { throw EnvelopeError(.badRequest, "\(which): message must be a string") }
            if let events = eventFields[source] {
                let kinds = events.keys.sorted().joined(separator: ", ")
                guard case let .string(kind)? = line["event_type"], let needed = events[kind] else {
                    throw EnvelopeError(.badRequest, "\(which): source \(source) holds events: event_type must be one of \(kinds)")
                }
                if let missing = needed.first(where: { line[$0] == nil }) {
                    throw EnvelopeError(.badRequest, "\(which): a \(kind) event of source \(source) needs \(needed.joined(separator: ", ")); \(missing) is missing")
                }
            }
            guard try JSONEncoder().encode(line).count <= maxLineBytes else {
                throw EnvelopeError(.contentTooLarge, "\(which): at most \(maxLineBytes) bytes encoded")
            }
        }
    }
}

private extension UInt8 {
    var isLowercaseOrDigit: Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }
}
