import Foundation
import LogModel

/// What a read asks for, with times already absolute: a window (`since` inclusive, `until`
/// exclusive), the end it starts from, how many lines in all, and the filters.
struct LogRequest: Sendable {
    /// At most this many lines in all pages together; nil for all in the window.
    var lines: Int?
    var since: Int64?
    var until: Int64?
    var newestFirst = false
    var after: CompositeCursor?
    var follow = false
    var stream: String?
    var grep: String?
    var limitBytes: Int?

    /// Whether a ring may hold something of the window, by the times the index knows: a
    /// finished run that ended before `since`, or a ring that began at or after `until`, is
    /// not asked (a read of every run of a job asks only the runs in its window).
    func mayHold(_ ring: AgentRing) -> Bool {
        if let since, ring.state == "finished", let last = ring.lastTime.flatMap(NanoTime.parse), last < since { return false }
        if let until, let first = ring.firstTime.flatMap(NanoTime.parse), first >= until { return false }
        return true
    }

    /// The agent query for one ring from `position` (or the window's end), for at most `count`
    /// items: the first ones forward, the last ones newest first.
    func agentQuery(ring: String, from position: CompositeCursor.Position?, count: Int?, follow: Bool = false) -> String {
        var query: [String] = []
        var since = since
        var until = until
        switch position {
        case let .after(seq)?:
            query.append("after=" + CompositeCursor.agentCursor(ring: ring, seq: seq))
            since = nil
        case let .before(seq)?: query.append("before=" + CompositeCursor.agentCursor(ring: ring, seq: seq))
        case let .since(time)?: since = max(since ?? time, time)
        case let .until(time)?: until = min(until ?? time, time)
        case nil: break
        }
        if let since { query.append("since=\(since)") }
        if let until { query.append("until=\(until)") }
        if let count { query.append(newestFirst ? "lines=\(count)" : "limit=\(count)") }
        if !narrowing.isEmpty { query.append(narrowing) }
        if let limitBytes { query.append("limit_bytes=\(limitBytes)") }
        if follow { query.append("follow=true") }
        return query.joined(separator: "&")
    }

    /// The agent query that resumes `ring` at `seq`, shaped by `filters`.
    static func agentQuery(ring: String, after seq: UInt64, filters: String, follow: Bool) -> String {
        [filters, "after=" + CompositeCursor.agentCursor(ring: ring, seq: seq), follow ? "follow=true" : ""]
            .filter { !$0.isEmpty }.joined(separator: "&")
    }

    /// The part of an agent query that shapes which items come, not where they start: one
    /// shared pull serves the follows that agree on it.
    var filters: String {
        [until.map { "until=\($0)" } ?? "", narrowing].filter { !$0.isEmpty }.joined(separator: "&")
    }

    private var narrowing: String {
        var query: [String] = []
        if let stream, stream != "all" { query.append("stream=\(stream)") }
        if let grep { query.append("grep=\(grep.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? grep)") }
        return query.joined(separator: "&")
    }
}
