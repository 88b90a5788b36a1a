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
        var items: [LogItem]
        /// Each ring's position after the page, going forward: where a follow goes on.
        var positions: CompositeCursor
        /// The last item handed out, nil when none was: where the next page goes on.
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
    func page(_ selected: [(AgentEndpoint, AgentRing)], _ request: LogRequest, limit: Int, forwardMarks: Bool? = nil,
              keep: (LogItem, AgentRing) -> Bool = { _, _ in true }, label: (inout LogItem, AgentRing) -> Void = { _, _ in }) async -> Page {
        let rings = selected.filter { request.mayHold($0.1) }
        let fetched = await withTaskGroup(of: (Int, [LogItem], String?).self) { group in
            for (index, (agent, ring)) in rings.enumerated() {
                let query = request.agentQuery(ring: ring.id, from: request.after?.position(of: ring.id), count: limit + 1)
                group.addTask {
                    var items: [LogItem] = []
                    do {
                        for try await item in client.items(agent, ring: ring.id, query: query) where item.type != .heartbeat {
                            items.append(item)
                            if items.count > limit { break }
                        }
                        return (index, items, nil)
                    } catch let error as AgentCallError {
                        return (index, items, error.description)
                    } catch {
                        return (index, items, "\(agent.node) is unreachable: \(error)")
                    }
                }
            }
            var all = [([LogItem], String?)](repeating: ([], nil), count: rings.count)
            for await (index, items, warning) in group { all[index] = (items, warning) }
            return all
        }
        let streams = fetched.map(\.0)
        let forward = !request.newestFirst
        // A ring whose fetch has no time at all (only a gap of lines that rolled over) stands at
        // the position it was read from.
        let from = request.after?.mark?.time ?? (request.newestFirst ? request.until ?? NanoTime.now() : request.since ?? 0)
        let merged = Self.merge(streams, ringIDs: rings.map(\.1.id), newestFirst: request.newestFirst, limit: limit,
                                undated: NanoTime.format(from))
        let forwardMarks = forwardMarks ?? forward

        var out: [LogItem] = []
        out.reserveCapacity(merged.order.count)
        var mark: CompositeCursor.Mark?
        for (ring, index) in merged.order {
            var item = streams[ring][index]
            let after = CompositeCursor.seq(ofAgentCursor: item.cursor) ?? 0
            let time = merged.times[ring][index]
            mark = CompositeCursor.Mark(time: NanoTime.parse(time) ?? from, ring: rings[ring].1.id,
                                        seq: forwardMarks ? after : item.seq ?? max(after, 1) - 1, newestFirst: !forwardMarks)
            // An entry that a filter drops still counts as read: the next page goes on after it.
            guard keep(item, rings[ring].1) else { continue }
            item.cursor = CompositeCursor(mark: mark!).text
            Self.complete(&item, time: time, node: rings[ring].0.node)
            label(&item, rings[ring].1)
            out.append(item)
        }
        // A follow goes on in each ring after the newest item read of it, or from the cursor
        // or its end when nothing was.
        var positions: [String: CompositeCursor.Position] = [:]
        for (index, (_, ring)) in rings.enumerated() {
            let items = streams[index]
            let taken = merged.taken[index]
            let newest = forward ? (taken > 0 ? items[taken - 1] : nil) : items.last
            if let newest, let seq = CompositeCursor.seq(ofAgentCursor: newest.cursor) {
                positions[ring.id] = .after(seq)
            } else if forward, let first = items.first?.seq {
                positions[ring.id] = .after(first)
            } else if let position = request.after?.position(of: ring.id) {
                positions[ring.id] = position
            } else if let end = CompositeCursor.seq(ofAgentCursor: ring.endCursor) {
                positions[ring.id] = .after(end)
            }
        }
        // A follow's last lines, read newest first, are shown oldest first.
        if !forward, forwardMarks { out.reverse() }
        return Page(items: out, positions: CompositeCursor(positions: positions), mark: mark, more: merged.more,
                    warnings: fetched.compactMap(\.1))
    }

    /// Merges each ring's items (each in its own order, oldest first) by (time, ring id), from
    /// the oldest end or, newest first, from the newest; at most `limit`. An item without a
    /// time (a gap of lines that rolled over) takes its neighbour's, so it stays in its place.
    static func merge(_ streams: [[LogItem]], ringIDs: [String], newestFirst: Bool, limit: Int, undated: String)
        -> (order: [(ring: Int, index: Int)], times: [[String]], taken: [Int], more: Bool) {
        let times = streams.map { items -> [String] in
            var times = items.map { $0.datetime ?? "" }
            for index in times.indices.dropFirst() where times[index].isEmpty { times[index] = times[index - 1] }
            for index in times.indices.reversed().dropFirst() where times[index].isEmpty { times[index] = times[index + 1] }
            return times.first?.isEmpty == true ? times.map { _ in undated } : times
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

    /// Every item a read hands out has a time, a pod, a container and a message: the
    /// platform's clients print those four, for gaps and warnings too.
    static func complete(_ item: inout LogItem, time: String, node: String) {
        item.node = node
        item.seq = nil
        if item.datetime == nil, !time.isEmpty { item.datetime = time }
        if item.pod == nil { item.pod = "" }
        if item.container == nil { item.container = "" }
        if item.message == nil, item.type == .gap { item.message = item.gapDescription }
    }

    private enum Event: Sendable {
        case item(ring: String, agent: AgentEndpoint, LogItem)
        /// The agent said nothing more will come of this ring.
        case ended(ring: String)
        case tick
    }

    /// Follows rings live after `page`: items are handed out as the agents send them, with a
    /// heartbeat while all is quiet. `more()` is asked now and then for rings that appeared
    /// since (new pods of a continuous job or webservice); they are followed from their start.
    /// With `endsWhenFinished` (a given run, a build) the follow ends when all its rings have.
    func follow(_ rings: [(AgentEndpoint, AgentRing)], from start: CompositeCursor, _ request: LogRequest, endsWhenFinished: Bool,
                more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) -> BoundedStream<LogItem> {
        let (events, sink) = BoundedStream<Event>.make(capacity: AgentClient.itemsAhead)
        let client = client
        let shared = shared
        let heartbeat = heartbeat
        let followed = RingSet(rings.map(\.1.id))
        @Sendable func upstream(_ agent: AgentEndpoint, _ ring: AgentRing, from position: CompositeCursor.Position?) -> Task<Void, Never> {
            let items: BoundedStream<LogItem>
            switch position {
            // From a cursor or the ring's start, without a byte budget of its own: one pull for all.
            case let .after(seq)? where request.limitBytes == nil:
                items = shared.follow(agent, ring: ring.id, from: seq, filters: request.filters)
            case nil where request.limitBytes == nil:
                items = shared.follow(agent, ring: ring.id, from: 0, filters: request.filters)
            default:
                items = client.items(agent, ring: ring.id, query: request.agentQuery(ring: ring.id, from: position, count: nil, follow: true))
            }
            return Task {
                do {
                    for try await item in items where item.type != .heartbeat {
                        guard await sink.send(.item(ring: ring.id, agent: agent, item)) else { return }
                    }
                    await sink.send(.ended(ring: ring.id))
                } catch {
                    if !Task.isCancelled {
                        await sink.send(.item(ring: ring.id, agent: agent, LogItem(type: .message, datetime: NanoTime.format(NanoTime.now()),
                                                                            message: "\(agent.node) is unreachable: \(error)", level: "warning")))
                    }
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
        let (items, out) = BoundedStream<LogItem>.make(capacity: AgentClient.itemsAhead)
        tasks.add(Task {
            var positions = start.positions
            var ended = Set<String>()
            do {
                for try await event in events {
                    var item: LogItem
                    switch event {
                    case .tick:
                        item = LogItem(type: .heartbeat, datetime: NanoTime.format(NanoTime.now()))
                    case let .ended(ring):
                        ended.insert(ring)
                        if endsWhenFinished, followed.all.isSubset(of: ended) { return out.finish() }
                        continue
                    case .item(let ring, let agent, let upstreamItem):
                        item = upstreamItem
                        if let seq = CompositeCursor.seq(ofAgentCursor: item.cursor) { positions[ring] = .after(seq) }
                        if item.type != .message { item.cursor = CompositeCursor(positions: positions).text }
                        MergedLogs.complete(&item, time: item.datetime ?? NanoTime.format(NanoTime.now()), node: agent.node)
                    }
                    guard await out.send(item) else { return }
                }
            } catch {}
            out.finish()
        })
        items.onTermination {
            tasks.cancelAll()
            sink.finish()
        }
        return items
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
