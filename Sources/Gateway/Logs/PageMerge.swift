import AgentWire
import LogModel

/// A page of a merged read, as a client gets it.
struct MergedPage: Sendable {
    /// In the read's order.
    var entries: [ReadEntry]
    /// Each ring's position after the page, going forward: where a follow goes on.
    var positions: CompositeCursor
    /// The last item read (handed out, or dropped by a filter), nil when none was: where the
    /// next page goes on.
    var mark: CompositeCursor.Mark?
    /// Whether the window holds more than the page.
    var more: Bool
    var warnings: [String]
}

/// The pure half of a merged read: the items each ring sent, merged by time into the page a
/// client gets, with each entry's cursor and each ring's position after it. No I/O and no
/// waiting: `MergedLogs` fetches the items and runs this on the merge pool, and it is tested
/// alone (`PageMergeTests`).
struct PageMerge {
    /// The rings asked and what each sent, oldest first (`items[i]` is `rings[i]`'s).
    var rings: [AgentRing]
    var items: [[AgentItem]]
    /// Where each ring ended when its agent began the read (nil: not said).
    var ends: [UInt64?]
    var request: LogRequest
    var selection: LogSelection

    /// At most `limit` entries; marks go forward when `forwardMarks` (nil: as the read goes),
    /// as a follow's first page, read newest first and shown oldest first, needs. `selected`:
    /// every ring of the read, each of which gets a position, asked or not.
    func page(limit: Int, forwardMarks: Bool? = nil, selected: [AgentRing], warnings: [String] = []) -> MergedPage {
        let forward = !request.newestFirst
        // A ring whose fetch has no time at all (only a gap of lines that rolled over) stands at
        // the position it was read from.
        let from = request.after?.mark?.time ?? (request.newestFirst ? request.until ?? NanoTime.now() : request.since ?? 0)
        let merged = Self.merge(items, ringIDs: rings.map(\.id), newestFirst: request.newestFirst, limit: limit, undated: from)
        let forwardMarks = forwardMarks ?? forward

        var out: [ReadEntry] = []
        out.reserveCapacity(merged.order.count)
        var mark: CompositeCursor.Mark?
        for (ring, index) in merged.order {
            let item = items[ring][index]
            let time = merged.times[ring][index]
            let itemMark = CompositeCursor.Mark(time: time, ring: rings[ring].id, seq: forwardMarks ? item.next : item.seq, newestFirst: !forwardMarks)
            mark = itemMark
            // An entry that a filter drops still counts as read: the next page goes on after it.
            guard selection.keeps(item, ring: rings[ring]) else { continue }
            var entry = ReadEntry(item)
            entry.cursor = CompositeCursor(mark: itemMark)
            if item.time == nil { entry.datetime = NanoTime.format(time) }
            selection.label(&entry, ring: rings[ring])
            out.append(entry)
        }
        // A follow goes on in each ring after the newest item read of it; when nothing was,
        // from where its agent said it ended as the read began (nothing before that is in the
        // window), or else from the cursor or the index's end (a ring not asked, outside the
        // window: else its follow would start at its first line). The index's end may be
        // seconds old: a follow from it would replay lines from before the window.
        var positions: [String: CompositeCursor.Position] = [:]
        let asked = Dictionary(uniqueKeysWithValues: rings.enumerated().map { ($1.id, $0) })
        for ring in selected {
            let sent = asked[ring.id].map { items[$0] } ?? []
            let taken = asked[ring.id].map { merged.taken[$0] } ?? 0
            let newest = forward ? (taken > 0 ? sent[taken - 1] : nil) : sent.last
            if let newest {
                positions[ring.id] = .after(newest.next)
            } else if forward, let first = sent.first {
                positions[ring.id] = .after(first.seq)
            } else if let end = asked[ring.id].flatMap({ ends[$0] }) {
                positions[ring.id] = .after(end)
            } else {
                positions[ring.id] = request.after?.position(of: ring.id) ?? .after(ring.endSeq)
            }
        }
        // A follow's last lines, read newest first, are shown oldest first.
        if !forward, forwardMarks { out.reverse() }
        return MergedPage(entries: out, positions: CompositeCursor(positions: positions), mark: mark, more: merged.more, warnings: warnings)
    }

    /// Merges each ring's items (each in its own order, oldest first) by (time, ring id), from
    /// the oldest end or, newest first, from the newest; at most `limit`. An item without a
    /// time (a gap of lines that rolled over) takes its neighbour's, so it stays in its place,
    /// or, in a ring with no time at all, `undated`.
    static func merge(_ streams: [[AgentItem]], ringIDs: [String], newestFirst: Bool, limit: Int, undated: Int64)
        -> (order: [(ring: Int, index: Int)], times: [[Int64]], taken: [Int], more: Bool) {
        let times = streams.map { items -> [Int64] in
            var times = items.map(\.time)
            for index in times.indices.dropFirst() where times[index] == nil { times[index] = times[index - 1] }
            for index in times.indices.reversed().dropFirst() where times[index] == nil { times[index] = times[index + 1] }
            return times.map { $0 ?? undated }
        }
        // How many of each ring's items are taken, from its oldest end or (newest first) its newest.
        var taken = [Int](repeating: 0, count: streams.count)
        var order: [(ring: Int, index: Int)] = []
        while order.count < limit {
            var best: (ring: Int, index: Int)?
            for ring in streams.indices where taken[ring] < streams[ring].count {
                let index = newestFirst ? streams[ring].count - 1 - taken[ring] : taken[ring]
                guard let current = best else {
                    best = (ring, index)
                    continue
                }
                let candidate = (times[ring][index], ringIDs[ring])
                let leader = (times[current.ring][current.index], ringIDs[current.ring])
                if newestFirst ? candidate > leader : candidate < leader { best = (ring, index) }
            }
            guard let chosen = best else { break }
            taken[chosen.ring] += 1
            order.append(chosen)
        }
        let more = streams.indices.contains { taken[$0] < streams[$0].count }
        return (order, times, taken, more)
    }
}
