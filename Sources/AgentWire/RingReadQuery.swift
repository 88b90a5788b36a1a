import Foundation

/// The query of `GET /internal/v2/rings/{id}/logs`: the gateway builds it, the agent parses it,
/// both with this type. Positions are sequence numbers in the ring the path names; times are
/// nanoseconds since the epoch.
public struct RingReadQuery: Sendable, Hashable {
    public enum Stream: String, Sendable, Hashable, CaseIterable {
        case stdout, stderr, other
    }

    /// From this position on (the `next` of the last item read: right after it).
    public var after: UInt64?
    /// Before this position (the `seq` of the oldest item read newest first).
    public var before: UInt64?
    /// From this time on (inclusive).
    public var since: Int64?
    /// Up to this time (exclusive).
    public var until: Int64?
    /// The last this many lines of the window (0: none; a follow then starts at the end).
    public var lines: Int?
    /// At most this many items (lines and gaps).
    public var limit: Int?
    /// At most about this many bytes of messages.
    public var limitBytes: Int?
    public var stream: Stream?
    /// Only lines holding these bytes.
    public var grep: String?
    public var follow = false
    /// `text/plain` only: each line led by its time.
    public var timestamps = false

    /// A bound on the last-N count (a count, not what a response holds: that streams).
    public static let maxLines = 1_000_000
    /// Items a small read asks for at most: a gateway's page of a merged read asks 5,001.
    public static let smallItems = 10_000

    /// Whether the read can cost a scan of the ring: a whole download, a count beyond a small
    /// page, or a search (which reads until it finds its count). A follow waits on its ring and
    /// a small read is a page or two: neither is held back by a tool's share of reads.
    public var mayScan: Bool {
        guard !follow else { return false }
        guard grep == nil, let count = limit ?? lines else { return true }
        return count > Self.smallItems
    }
    public static let maxGrepBytes = 1024

    public init(after: UInt64? = nil, before: UInt64? = nil, since: Int64? = nil, until: Int64? = nil, lines: Int? = nil,
                limit: Int? = nil, limitBytes: Int? = nil, stream: Stream? = nil, grep: String? = nil, follow: Bool = false,
                timestamps: Bool = false) {
        self.after = after
        self.before = before
        self.since = since
        self.until = until
        self.lines = lines
        self.limit = limit
        self.limitBytes = limitBytes
        self.stream = stream
        self.grep = grep
        self.follow = follow
        self.timestamps = timestamps
    }

    /// RFC 3986's unreserved characters, ASCII only: everything else of `grep` is escaped.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The query string, without `?`.
    public var encoded: String {
        var parts: [String] = []
        func add(_ name: String, _ value: (some CustomStringConvertible)?) {
            if let value { parts.append("\(name)=\(value)") }
        }
        add("after", after)
        add("before", before)
        add("since", since)
        add("until", until)
        add("lines", lines)
        add("limit", limit)
        add("limit_bytes", limitBytes)
        add("stream", stream?.rawValue)
        add("grep", grep.map { $0.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? $0 })
        if follow { parts.append("follow=true") }
        if timestamps { parts.append("timestamps=true") }
        return parts.joined(separator: "&")
    }

    /// A parameter that is malformed, unknown, given twice, or at odds with another.
    public typealias Invalid = InvalidQuery

    /// Parses the query's (already percent-decoded) parameters.
    public init(parsing parameters: some Sequence<(String, String)>) throws(Invalid) {
        for parameter in try QueryValue.each(parameters) { try set(parameter) }
        if after != nil, lines != nil { throw Invalid(description: "lines: the last lines start where they start, not after a position") }
    }

    private mutating func set(_ parameter: QueryValue) throws(Invalid) {
        let (name, value) = (parameter.name, parameter.value)
        switch name {
        case "after": after = try parameter.number(0...UInt64.max, "a position (a whole number)")
        case "before": before = try parameter.number(0...UInt64.max, "a position (a whole number)")
        case "since": since = try parameter.number(Int64.min...Int64.max, "nanoseconds since the epoch")
        case "until": until = try parameter.number(Int64.min...Int64.max, "nanoseconds since the epoch")
        case "lines": lines = try parameter.number(0...Self.maxLines, "a whole number from 0 to \(Self.maxLines)")
        case "limit": limit = try parameter.number(1...Int.max, "a positive whole number")
        case "limit_bytes": limitBytes = try parameter.number(1...Int.max, "a positive whole number")
        case "stream":
            guard let stream = Stream(rawValue: value) else { throw Invalid(description: "stream: must be stdout, stderr or other, not \(value)") }
            self.stream = stream
        case "grep":
            guard (1...Self.maxGrepBytes).contains(value.utf8.count) else { throw Invalid(description: "grep: must be 1 to \(Self.maxGrepBytes) bytes") }
            grep = value
        case "follow": follow = try parameter.flag()
        case "timestamps": timestamps = try parameter.flag()
        default: throw Invalid(description: "\(name): not a parameter of a ring read")
        }
    }
}
