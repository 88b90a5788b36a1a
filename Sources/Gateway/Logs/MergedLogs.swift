import AgentWire
import Foundation
import LogModel
import Synchronization

/// Reads several rings through their agents and merges them by time, a page at a time or live.
/// Each item handed out carries a cursor (`CompositeCursor`) from which a client that resumes
/// gets every line exactly once.
struct MergedLogs: Sendable {
    let client: AgentClient
    let shared: SharedFollows
    let heartbeat: Duration
    static let pageItems = 5000

    struct Page {
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

    /// One page of a merged read: at most `limit` items from the request's cursor, or from the
    /// start of its window (its end, newest first). Each ring is asked for one item more than
    /// the page holds, so that the page knows whether more follow; the agents seek to the
    /// position, so page k costs what page 1 does. Items carry marks as cursors (going forward
    /// when `forwardMarks`, as a follow's first page shown oldest first needs).
    /// Only the rings that can hold the page are asked (`LogRequest.choice`: its window, and for a
    /// count of lines the few at its starting end); every ring of `selected` gets a position.
    /// `filtered`: entries are dropped here (`keep`), so no count of records bounds the page.
    func page(_ selected: [(AgentEndpoint, AgentRing)], _ request: LogRequest, limit: Int, forwardMarks: Bool? = nil, filtered: Bool = false,
              keep: (AgentItem, AgentRing) -> Bool = { _, _ in true }, label: (inout ReadEntry, AgentRing) -> Void = { _, _ in }) async -> Page {
        let rings = request.choice(filtered: filtered).choose(selected) { $0.1 }
        let fetched = await fetch(rings, request, count: limit + 1)
        let streams = fetched.map(\.items)
        let forward = !request.newestFirst
        // A ring whose fetch has no time at all (only a gap of lines that rolled over) stands at
        // the position it was read from.
        let from = request.after?.mark?.time ?? (request.newestFirst ? request.until ?? NanoTime.now() : request.since ?? 0)
        let merged = Self.merge(streams, ringIDs: rings.map(\.1.id), newestFirst: request.newestFirst, limit: limit, undated: from)
        let forwardMarks = forwardMarks ?? forward

        var out: [ReadEntry] = []
        out.reserveCapacity(merged.order.count)
        var mark: CompositeCursor.Mark?
        for (ring, index) in merged.order {
            let item = streams[ring][index]
            let time = merged.times[ring][index]
            mark = CompositeCursor.Mark(time: time, ring: rings[ring].1.id, seq: forwardMarks ? item.next : item.seq, newestFirst: !forwardMarks)
            // An entry that a filter drops still counts as read: the next page goes on after it.
            guard keep(item, rings[ring].1) else { continue }
            var entry = ReadEntry(item)
            entry.cursor = CompositeCursor(mark: mark!).text
            if item.time == nil { entry.datetime = NanoTime.format(time) }
            label(&entry, rings[ring].1)
            out.append(entry)
        }
        // A follow goes on in each ring after the newest item read of it, or from the cursor
        // or its end when nothing was (a ring not asked, outside the window, too: else its
        // follow would start at its first line).
        var positions: [String: CompositeCursor.Position] = [:]
        let asked = Dictionary(uniqueKeysWithValues: rings.enumerated().map { ($1.1.id, $0) })
        for (_, ring) in selected {
            let items = asked[ring.id].map { streams[$0] } ?? []
            let taken = asked[ring.id].map { merged.taken[$0] } ?? 0
            let newest = forward ? (taken > 0 ? items[taken - 1] : nil) : items.last
            if let newest {
                positions[ring.id] = .after(newest.next)
            } else if forward, let first = items.first {
                positions[ring.id] = .after(first.seq)
            } else {
                positions[ring.id] = request.after?.position(of: ring.id) ?? .after(ring.endSeq)
            }
        }
        // A follow's last lines, read newest first, are shown oldest first.
        if !forward, forwardMarks { out.reverse() }
        return Page(entries: out, positions: CompositeCursor(positions: positions), mark: mark, more: merged.more,
                    warnings: fetched.compactMap(\.warning))
    }

    /// Each ring's first `count` items of the request (one ring asked in this task, several at once).
    private func fetch(_ rings: [(AgentEndpoint, AgentRing)], _ request: LogRequest, count: Int) async -> [(items: [AgentItem], warning: String?)] {
        @Sendable func one(_ agent: AgentEndpoint, _ ring: AgentRing) async -> (items: [AgentItem], warning: String?) {
            do {
                let query = request.ringQuery(from: request.after?.position(of: ring.id), count: count)
                return (try await client.page(agent, ring: ring.id, query), nil)
            } catch {
                return ([], "\(error)")
            }
        }
        if rings.count == 1 { return [await one(rings[0].0, rings[0].1)] }
        return await withTaskGroup(of: (Int, (items: [AgentItem], warning: String?)).self) { group in
            for (index, (agent, ring)) in rings.enumerated() {
                group.addTask { (index, await one(agent, ring)) }
            }
            var all = [(items: [AgentItem], warning: String?)](repeating: ([], nil), count: rings.count)
            for await (index, result) in group { all[index] = result }
            return all
        }
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

    private enum Event: Sendable {
        case item(ring: String, AgentItem)
        case warning(String)
        /// The agent said nothing more will come of this ring.
        case ended(ring: String)
        case tick
    }

    /// Follows rings live after `page`: items are handed out as the agents send them, with a
    /// heartbeat while all is quiet. `more()` is asked now and then for rings that appeared
    /// since (new pods of a continuous job or webservice); they are followed from their start.
    /// With `endsWhenFinished` (a given run, a build) the follow ends when all its rings have.
    func follow(_ rings: [(AgentEndpoint, AgentRing)], from start: CompositeCursor, _ request: LogRequest, endsWhenFinished: Bool,
                more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) -> BoundedStream<ReadEntry> {
        let (events, sink) = BoundedStream<Event>.make(capacity: AgentClient.itemsAhead)
        let client = client
        let shared = shared
        let heartbeat = heartbeat
        let followed = RingSet(rings.map(\.1.id))
        @Sendable func pass(_ ring: String, _ followed: Followed) async -> Bool {
            switch followed {
            case let .item(item): item.type == .heartbeat ? true : await sink.send(.item(ring: ring, item))
            case let .warning(text): await sink.send(.warning(text))
            }
        }
        @Sendable func upstream(_ agent: AgentEndpoint, _ ring: AgentRing, from position: CompositeCursor.Position?) -> Task<Void, Never> {
            // From a cursor or the ring's start, without a byte budget of its own: one pull for all.
            var start: UInt64?
            switch position {
            case let .after(seq)? where request.limitBytes == nil: start = seq
            case nil where request.limitBytes == nil: start = 0
            default: start = nil
            }
            return Task {
                do {
                    if let start {
                        for try await followed in shared.follow(agent, ring: ring.id, from: start, shape: request.shape) {
                            guard await pass(ring.id, followed) else { return }
                        }
                    } else {
                        for try await item in client.items(agent, ring: ring.id, request.ringQuery(from: position, count: nil, follow: true)) {
                            guard await pass(ring.id, .item(item)) else { return }
                        }
                    }
                    await sink.send(.ended(ring: ring.id))
                } catch {
                    if !Task.isCancelled { await sink.send(.warning("\(error)")) }
                }
            }
        }
        let tasks = TaskBag()
        for (agent, ring) in rings { tasks.add(upstream(agent, ring, from: start.position(of: ring.id))) }
        tasks.add(Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                guard !Task.isCancelled, await sink.send(.tick) else { break }
                for (agent, ring) in await more() where followed.insert(ring.id) {
                    tasks.add(upstream(agent, ring, from: nil))
                }
            }
        })
        let (entries, out) = BoundedStream<ReadEntry>.make(capacity: AgentClient.itemsAhead)
        tasks.add(Task {
            var positions = start.positions
            var ended = Set<String>()
            do {
                for try await event in events {
                    let entry: ReadEntry
                    switch event {
                    case .tick:
                        entry = .heartbeat()
                    case let .warning(text):
                        entry = .message(text, level: "warning")
                    case let .ended(ring):
                        ended.insert(ring)
                        if endsWhenFinished, followed.all.isSubset(of: ended) { return out.finish() }
                        continue
                    case let .item(ring, item):
                        positions[ring] = .after(item.next)
                        var itemEntry = ReadEntry(item)
                        itemEntry.cursor = CompositeCursor(positions: positions).text
                        if item.time == nil { itemEntry.datetime = NanoTime.format(NanoTime.now()) }
                        entry = itemEntry
                    }
                    guard await out.send(entry) else { return }
                }
            } catch is CancellationError {
                // The client went: there is no one left to tell.
            } catch {
                _ = await out.send(.message("the merge of this follow stopped: \(error)", level: "warning"))
            }
            out.finish()
        })
        entries.onTermination {
            tasks.cancelAll()
            sink.finish()
        }
        return entries
    }
}

/// The tasks of one follow, cancelled together when the client goes; one added after that is
/// cancelled at once.
private final class TaskBag: Sendable {
    private let tasks = Mutex<(all: [Task<Void, Never>], cancelled: Bool)>(([], false))

    func add(_ task: Task<Void, Never>) {
        let cancelled = tasks.withLock { tasks in
            if !tasks.cancelled { tasks.all.append(task) }
            return tasks.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancelAll() {
        tasks.withLock { tasks in
            tasks.cancelled = true
            defer { tasks.all = [] }
            return tasks.all
        }.forEach { $0.cancel() }
    }
}

/// The rings a follow already has an upstream for.
private final class RingSet: Sendable {
    private let ids: Mutex<Set<String>>
    init(_ ids: [String]) { self.ids = Mutex(Set(ids)) }
    func insert(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
    var all: Set<String> { ids.withLock { $0 } }
}
