import HTTPEnvelope
import AgentWire
import Foundation
import LogModel
import OpenAPIRuntime

/// The read parameters of a log operation's query, by the generated types' names: every log
/// operation's query conforms, and a parameter that an operation does not take reads as absent.
protocol LogReadQuery {
    var lines: Components.Parameters.Lines? { get }
    var since: Components.Parameters.Since? { get }
    var until: Components.Parameters.Until? { get }
    var direction: Components.Parameters.Direction? { get }
    var after: Components.Parameters.After? { get }
    var follow: Components.Parameters.Follow? { get }
    var run: Components.Parameters.Run? { get }
    var stream: Components.Parameters.Stream? { get }
    var container: Components.Parameters.Container? { get }
    var grep: Components.Parameters.Grep? { get }
    var limitBytes: Components.Parameters.LimitBytes? { get }
}

extension LogReadQuery {
    var direction: Components.Parameters.Direction? { nil }
    var after: Components.Parameters.After? { nil }
    var follow: Components.Parameters.Follow? { nil }
    var run: Components.Parameters.Run? { nil }
    var stream: Components.Parameters.Stream? { nil }
    var container: Components.Parameters.Container? { nil }
    var limitBytes: Components.Parameters.LimitBytes? { nil }
}

extension Operations.GetToolLogs.Input.Query: LogReadQuery {}
extension Operations.GetJobLogs.Input.Query: LogReadQuery {}
extension Operations.GetJobLogsStream.Input.Query: LogReadQuery {}
extension Operations.GetWebserviceLogs.Input.Query: LogReadQuery {}
extension Operations.GetBuildLogs.Input.Query: LogReadQuery {}
extension Operations.GetActivity.Input.Query: LogReadQuery {}
extension Operations.GetSourceLogs.Input.Query: LogReadQuery {}

/// The read parameters every log endpoint shares, as they come from the generated types.
struct LogParameters: Sendable {
    var lines: Int?
    var since: String?
    var until: String?
    var direction: Components.Parameters.Direction?
    var after: String?
    var follow: Bool?
    var run: String?
    var stream: Components.Parameters.Stream?
    var container: String?
    var grep: String?
    var limitBytes: Int?
    var lastEventID: String?
    /// The most acceptable media type the client asked for, if any.
    var accept: String?
    /// The operation's own filters, which the next page keeps as they are (name, value).
    var filters: [(String, String)] = []

    init(_ query: some LogReadQuery, lastEventID: String? = nil, accept: String?) {
        lines = query.lines
        since = query.since
        until = query.until
        direction = query.direction
        after = query.after
        follow = query.follow
        run = query.run
        stream = query.stream
        container = query.container
        grep = query.grep
        limitBytes = query.limitBytes
        self.lastEventID = lastEventID
        self.accept = accept
    }

    /// Entries in a JSON page, as the platform's logs API pages them.
    static let pageEntries = 500
    /// Without `since`, a read covers the last hour.
    static let defaultWindow: Int64 = 3_600_000_000_000

    /// Resolves relative times and cursors; anything malformed is a 400 naming the parameter.
    func request(now: Int64) throws -> LogRequest {
        // The generated code checks types, not ranges: the spec's bounds are enforced here.
        if let lines, lines < 0 { throw EnvelopeError(.badRequest, "lines: must be 0 or more, not \(lines)") }
        if let limitBytes, !(1...(1 << 30)).contains(limitBytes) {
            throw EnvelopeError(.badRequest, "limit_bytes: must be from 1 to 1073741824, not \(limitBytes)")
        }
        if let grep, grep.isEmpty || grep.utf8.count > 1024 { throw EnvelopeError(.badRequest, "grep: must be 1 to 1024 bytes") }
        if let container, !NameRules.isLabel(container) { throw EnvelopeError(.badRequest, "container: not a container name: \(container)") }
        if let run, run != "latest", run != "all", run.isEmpty || run.utf8.count > 253 || run.contains("/") {
            throw EnvelopeError(.badRequest, "run: expected latest, all or a run id, not \(run)")
        }
        var request = LogRequest()
        request.follow = follow ?? false
        request.stream = switch stream {
        case nil, .all?: nil
        case .stdout?: .stdout
        case .stderr?: .stderr
        }
        request.grep = grep
        request.limitBytes = limitBytes
        request.lines = lines == 0 ? nil : lines
        request.newestFirst = direction == .newestFirst
        if request.follow, request.newestFirst { throw EnvelopeError(.badRequest, "direction: a follow is oldest first") }
        func time(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let value = TimeSpec.resolve(text, now: now) else {
                throw EnvelopeError(.badRequest, "Invalid \"\(name)\" time: \(text) (expected an ISO 8601 time with Z or an offset, "
                    + "or a duration such as 90s, 10m, 1h32m22s or 2d)")
            }
            return value
        }
        if let cursor = after ?? lastEventID {
            let position = try CompositeCursor(parsing: cursor)
            if let mark = position.mark, mark.newestFirst != request.newestFirst {
                throw EnvelopeError(.badRequest, "after: the cursor is of a read in the other direction")
            }
            if position.mark == nil, request.newestFirst {
                throw EnvelopeError(.badRequest, "after: a follow's cursor goes on forward, not newest first")
            }
            request.after = position
        }
        // A follow has no end unless asked for one.
        request.until = try time(until, "until") ?? (request.follow ? nil : now)
        // The window is the hour before its end, unless it starts where a cursor says (an end
        // that a client gave may be as early as times go: the subtraction saturates).
        let end = request.until ?? now
        request.since = try time(since, "since") ?? (request.after == nil ? max(end, .min + Self.defaultWindow) - Self.defaultWindow : nil)
        if let start = request.since, let end = request.until, start >= end {
            // Without an "until", the end is now: `since=0s` is not a reversed window.
            throw EnvelopeError(.badRequest, until == nil ? "\"since\" time must be before now (the end of a read without \"until\")"
                                                          : "\"since\" time must be before \"until\" time")
        }
        return request
    }

    /// The next page, relative to the URL just asked for: the same read with its window made
    /// absolute (a window that slid with each page would repeat or skip lines), the lines still
    /// owed, and where this page stopped.
    func nextURL(_ request: LogRequest, served: Int, mark: CompositeCursor.Mark) -> String {
        var query: [(String, String)] = filters
        if let since = request.since { query.append(("since", NanoTime.format(since))) }
        if let until = request.until { query.append(("until", NanoTime.format(until))) }
        if let lines = request.lines { query.append(("lines", String(lines - served))) }
        query.append(("direction", request.newestFirst ? "newest_first" : "oldest_first"))
        for (name, value) in [("run", run), ("stream", stream?.rawValue), ("container", container), ("grep", grep),
                              ("limit_bytes", limitBytes.map(String.init))] {
            if let value { query.append((name, value)) }
        }
        query.append(("after", CompositeCursor(mark: mark).text))
        return "?" + query.map { "\($0)=\(Self.escaped($1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:,")
    private static func escaped(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value }

    enum Format { case json, ndjson, sse, text }

    /// JSON without follow, NDJSON with it, unless the client asked for another.
    var format: Format {
        switch accept {
        case "application/x-ndjson"?: .ndjson
        case "text/event-stream"?: .sse
        case "text/plain"?: .text
        case "application/json"?: .json
        default: follow == true ? .ndjson : .json
        }
    }
}

enum LogEncoding {
    /// One entry in a streaming representation onto `writer`; false when the representation
    /// leaves it out. `withCursor`: NDJSON's entries carry a cursor where `StreamEncoder` says.
    static func write(_ entry: ReadEntry, as format: LogParameters.Format, withCursor: Bool = true, to writer: inout JSONWriter) -> Bool {
        switch format {
        case .json, .ndjson:
            entry.write(to: &writer, withCursor: withCursor)
            writer.bytes.append(UInt8(ascii: "\n"))
        case .sse:
            if entry.type == .heartbeat {
                writer.bytes += ": heartbeat\n\n".utf8
                return true
            }
            writer.bytes += "id: \(entry.cursor?.text ?? "")\nevent: \(entry.type.rawValue)\ndata: ".utf8
            entry.write(to: &writer)
            writer.bytes += "\n\n".utf8
        case .text:
            guard let line = entry.text() else { return false }
            writer.bytes += line
        }
        return true
    }

    /// A JSON page (`LogsResponse`): the envelope around the entries, each as it came.
    /// Small (`LogParameters.pageEntries`): it is encoded where its handler runs.
    static func page(_ entries: [ReadEntry], next: String?, messages: Components.Schemas.Messages) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("data")
        writer.beginObject()
        writer.key("logs")
        writer.beginArray()
        for entry in entries {
            writer.element()
            entry.write(to: &writer)
        }
        writer.endArray()
        if let next {
            writer.key("next")
            writer.beginObject()
            writer.field("url", next)
            writer.endObject()
        }
        writer.endObject()
        writer.key("messages")
        writer.beginObject()
        for (name, texts) in [("error", messages.error), ("info", messages.info), ("warning", messages.warning)] {
            writer.key(name)
            writer.beginArray()
            for text in texts {
                writer.element()
                writer.string(text)
            }
            writer.endArray()
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}

/// Entries as a streamed answer writes them, the lines counted against `limit_bytes`. In
/// NDJSON, an entry written alone (a follow's live lines) carries its cursor, and of a page,
/// every `cursorEvery`th entry and the last: a cursor is for resuming, and made for every
/// line it was a third of the bytes of a download and much of the gateway's time for it. A
/// client resumes after the last cursor it got (docs/api.md); the CLI holds a follow's entries
/// until one comes. SSE's `id` and JSON pages keep one on every entry.
struct StreamEncoder: Sendable {
    let format: LogParameters.Format
    /// What `limit_bytes` leaves to send, in bytes of lines as they go out.
    private(set) var budget: Int
    static let cursorEvery = 1000

    /// Whether an NDJSON entry carries its cursor: the `ordinal`th (from 1) of what is being
    /// counted, `last` of what is written at once.
    static func carriesCursor(_ ordinal: Int, last: Bool) -> Bool { last || ordinal % cursorEvery == 0 }

    init(_ format: LogParameters.Format, limitBytes: Int?) {
        self.format = format
        budget = limitBytes ?? .max
    }

    var spent: Bool { budget <= 0 }

    /// One entry; nil when the format leaves it out.
    mutating func encode(_ entry: ReadEntry) -> [UInt8]? {
        var writer = JSONWriter()
        guard write(entry, withCursor: true, to: &writer) else { return nil }
        return writer.bytes
    }

    /// A page's entries in one buffer, until the budget is spent.
    mutating func encode(_ entries: [ReadEntry]) -> [UInt8] {
        var writer = JSONWriter(capacity: entries.count * 320)
        for (index, entry) in entries.enumerated() where !spent {
            let withCursor = format != .ndjson || Self.carriesCursor(index + 1, last: index == entries.count - 1)
            let (before, budgetBefore) = (writer.bytes.count, budget)
            _ = write(entry, withCursor: withCursor, to: &writer)
            // The entry that spends `limit_bytes` is the answer's last: it gets its cursor.
            if spent, !withCursor {
                writer.bytes.removeSubrange(before...)
                budget = budgetBefore
                _ = write(entry, withCursor: true, to: &writer)
            }
        }
        return writer.bytes
    }

    private mutating func write(_ entry: ReadEntry, withCursor: Bool, to writer: inout JSONWriter) -> Bool {
        let before = writer.bytes.count
        guard LogEncoding.write(entry, as: format, withCursor: withCursor, to: &writer) else { return false }
        if entry.type == .log { budget -= writer.bytes.count - before }
        return true
    }
}
