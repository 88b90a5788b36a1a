import Hummingbird
import LogModel
import RingStore

/// The parameters of `GET /internal/v1/rings/{id}/logs`, validated: anything malformed is a
/// 400 that says which parameter and why.
struct LogQuery {
    enum Format { case ndjson, text }

    var after: RingCursor?
    /// Only what comes before this cursor: where a backward (newest first) page left off.
    var before: RingCursor?
    var since: Int64?
    var until: Int64?
    var lines: Int?
    /// At most this many items (lines and gaps).
    var limit: Int?
    var limitBytes: Int?
    var streams: Set<LogStream>?
    var grep: [UInt8]?
    var follow = false
    var timestamps = false
    var format = Format.ndjson

    /// A bound on the last-N count (a count, not what a response holds: that streams).
    static let maxLines = 1_000_000

    init(_ request: Request, ring: RingID) throws {
        let query = request.uri.queryParameters
        after = try Self.cursor(request, "after", ring: ring)
        before = try Self.cursor(request, "before", ring: ring)
        since = try Self.time(request, "since")
        until = try Self.time(request, "until")
        if let text = query["lines"] {
            guard let value = Int(text), (0...Self.maxLines).contains(value) else {
                throw EnvelopeError(.badRequest, "lines: must be a whole number from 0 to \(Self.maxLines)")
            }
            lines = value
        }
        if let text = query["limit"] {
            guard let value = Int(text), value > 0 else { throw EnvelopeError(.badRequest, "limit: must be a positive whole number") }
            limit = value
        }
        if let text = query["limit_bytes"] {
            guard let value = Int(text), value > 0 else { throw EnvelopeError(.badRequest, "limit_bytes: must be a positive whole number") }
            limitBytes = value
        }
        switch query["stream"].map(String.init) {
        case nil, "all": streams = nil
        case "stdout": streams = [.stdout]
        case "stderr": streams = [.stderr]
        case "other": streams = [.other]
        case let other?: throw EnvelopeError(.badRequest, "stream: must be all, stdout, stderr or other, not \(other)")
        }
        if let text = query["grep"] {
            guard !text.isEmpty, text.utf8.count <= 1024 else { throw EnvelopeError(.badRequest, "grep: must be 1 to 1024 bytes") }
            grep = Array(text.utf8)
        }
        if after != nil, lines != nil { throw EnvelopeError(.badRequest, "lines: the last lines start where they start, not after a cursor") }
        follow = try Self.flag(request, "follow")
        timestamps = try Self.flag(request, "timestamps")
        let accept = request.headers[.accept] ?? "application/x-ndjson"
        format = accept.contains("text/plain") && !accept.contains("ndjson") ? .text : .ndjson
    }

    private static func cursor(_ request: Request, _ name: String, ring: RingID) throws -> RingCursor? {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let cursor = try? RingCursor(parsing: text) else { throw EnvelopeError(.badRequest, "\(name): not a cursor: \(text)") }
        guard cursor.ring == ring else { throw EnvelopeError(.badRequest, "\(name): the cursor is for another ring") }
        return cursor
    }

    private static func time(_ request: Request, _ name: String) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let value = Int64(text) ?? NanoTime.parse(text) else {
            throw EnvelopeError(.badRequest, "\(name): must be nanoseconds since the epoch or an RFC 3339 time, not \(text)")
        }
        return value
    }

    private static func flag(_ request: Request, _ name: String) throws -> Bool {
        switch request.uri.queryParameters[Substring(name)].map(String.init) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw EnvelopeError(.badRequest, "\(name): must be true or false, not \(other)")
        }
    }
}
