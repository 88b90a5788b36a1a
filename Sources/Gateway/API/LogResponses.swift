import Foundation
import LogModel
import OpenAPIRuntime

/// The read parameters every log endpoint shares, as they come from the generated types.
struct LogParameters: Sendable {
    var lines: Int?
    var since: String?
    var until: String?
    var after: String?
    var follow: Bool?
    var run: String?
    var stream: String?
    var container: String?
    var grep: String?
    var limitBytes: Int?
    var lastEventID: String?
    /// The most acceptable media type the client asked for, if any.
    var accept: String?

    static let defaultLines = 500

    /// Resolves relative times and cursors; anything malformed is a 400 naming the parameter.
    func request(now: Int64) throws -> LogRequest {
        // The generated code checks types, not ranges: the spec's bounds are enforced here.
        if let lines, !(0...100_000).contains(lines) { throw GatewayError(.badRequest, "lines: must be from 0 to 100000, not \(lines)") }
        if let limitBytes, !(1...(1 << 30)).contains(limitBytes) {
            throw GatewayError(.badRequest, "limit_bytes: must be from 1 to 1073741824, not \(limitBytes)")
        }
        if let grep, grep.isEmpty || grep.utf8.count > 1024 { throw GatewayError(.badRequest, "grep: must be 1 to 1024 bytes") }
        if let container, !NameRules.isLabel(container) { throw GatewayError(.badRequest, "container: not a container name: \(container)") }
        if let run, run != "latest", run != "all", run.isEmpty || run.utf8.count > 253 || run.contains("/") {
            throw GatewayError(.badRequest, "run: expected latest, all or a run id, not \(run)")
        }
        var request = LogRequest()
        request.follow = follow ?? false
        request.stream = stream
        request.grep = grep
        request.limitBytes = limitBytes
        func time(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let value = TimeSpec.resolve(text, now: now) else {
                throw GatewayError(.badRequest, "\(name): expected an RFC 3339 time or a duration such as 90s, 10m, 2h or 3d, not \(text)")
            }
            return value
        }
        request.since = try time(since, "since")
        request.until = try time(until, "until")
        if let since = request.since, let until = request.until, since >= until {
            throw GatewayError(.badRequest, "since must be before until")
        }
        if let cursor = after ?? lastEventID { request.after = try CompositeCursor(parsing: cursor) }
        request.lines = lines ?? (request.since == nil && request.after == nil ? Self.defaultLines : nil)
        return request
    }

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
    /// One item in a streaming representation; nil when the representation leaves it out.
    static func encode(_ item: LogItem, as format: LogParameters.Format) -> [UInt8]? {
        switch format {
        case .json, .ndjson:
            return item.ndjson()
        case .sse:
            if item.type == .heartbeat { return Array(": heartbeat\n\n".utf8) }
            var json = item.ndjson()
            json.removeLast()
            return Array("id: \(item.cursor ?? "")\nevent: \(item.type.rawValue)\ndata: ".utf8) + json + Array("\n\n".utf8)
        case .text:
            guard item.type == .log else { return nil }
            let bytes = item.messageBase64.flatMap { Base64.decode($0) } ?? Array((item.message ?? "").utf8)
            return item.partial == true ? bytes : bytes + [UInt8(ascii: "\n")]
        }
    }

    /// The generated schema type of an item, for JSON pages: field by field, but for the rare
    /// free-form `fields` (pushed lines, events), which take a JSON round trip.
    static func schema(_ item: LogItem) throws -> Components.Schemas.LogItem {
        try Components.Schemas.LogItem(
            _type: .init(rawValue: item.type.rawValue)!, datetime: item.datetime, stream: item.stream.flatMap { .init(rawValue: $0) },
            message: item.message, messageB64: item.messageBase64, partial: item.partial, truncated: item.truncated,
            pod: item.pod, container: item.container, run: item.run, node: item.node, cursor: item.cursor,
            records: item.records.map { Int(clamping: $0) }, bytes: item.bytes.map { Int(clamping: $0) }, reason: item.reason,
            level: item.level.flatMap { .init(rawValue: $0) },
            fields: item.fields.map { try JSONDecoder().decode(Components.Schemas.LogItem.FieldsPayload.self, from: JSONEncoder().encode($0)) })
    }
}
