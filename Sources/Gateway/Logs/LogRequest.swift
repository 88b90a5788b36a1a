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

    /// The rings this read can need, of those its source has (`RingChoice`). `filtered`: the
    /// read drops entries the agents send (the tool-wide read's filters), so a count of
    /// records bounds nothing. A mark cursor narrows the window to what lies past it; a cursor
    /// of every ring's position may stand deep inside any ring, so no count applies from it.
    func choice(filtered: Bool) -> RingChoice {
        // A follow that asks for its last lines reads them newest first.
        var choice = RingChoice(since: since, until: until, newestFirst: newestFirst || (follow && lines != nil && after == nil))
        let countable = !filtered && grep == nil && stream == nil
        if let mark = after?.mark {
            if mark.newestFirst {
                choice.until = min(until ?? .max, mark.time == .max ? mark.time : mark.time + 1)
            } else {
                choice.since = max(since ?? .min, mark.time)
            }
            if countable { choice.lines = lines }
        } else if after == nil, countable {
            choice.lines = lines
        }
        return choice
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
