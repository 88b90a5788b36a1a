import AgentWire
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
    var stream: RingReadQuery.Stream?
    var grep: String?
    /// A streamed answer ends after about this many bytes of lines: counted by the gateway over
    /// what it sends (an agent's budget would cut one ring of a merge short, and lose lines).
    var limitBytes: Int?

    /// Whether a ring may hold something of the window, by the times the index knows: a
    /// finished run that ended before `since`, or a ring that began at or after `until`, is
    /// not asked (a read of every run of a job asks only the runs in its window).
    func mayHold(_ ring: AgentRing) -> Bool {
        if let since, ring.state == .finished, let last = ring.lastTime.flatMap(NanoTime.parse), last < since { return false }
        if let until, let first = ring.firstTime.flatMap(NanoTime.parse), first >= until { return false }
        return true
    }

    /// The read of one ring from `position` (or the window's end), for at most `count` items:
    /// the first ones forward, the last ones newest first.
    func ringQuery(from position: CompositeCursor.Position?, count: Int?, follow: Bool = false) -> RingReadQuery {
        var query = shape
        query.since = since
        query.follow = follow
        switch position {
        case let .after(seq)?:
            query.after = seq
            query.since = nil
        case let .before(seq)?: query.before = seq
        case let .since(time)?: query.since = max(since ?? time, time)
        case let .until(time)?: query.until = min(until ?? time, time)
        case nil: break
        }
        if let count {
            if newestFirst { query.lines = count } else { query.limit = count }
        }
        return query
    }

    /// What shapes which items come, not where they start: one shared pull serves the follows
    /// that agree on it.
    var shape: RingReadQuery { RingReadQuery(until: until, stream: stream, grep: grep) }
}
