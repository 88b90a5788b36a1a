import Foundation
import LogModel
import Synchronization

/// What a read asks for, with times already absolute.
struct LogRequest: Sendable {
    var lines: Int?
    var since: Int64?
    var until: Int64?
    var after: CompositeCursor?
    var follow = false
    var stream: String?
    var grep: String?
    var limitBytes: Int?

    /// The agent query for one ring, starting where the composite cursor says (or as asked).
    func agentQuery(ring: String, from position: CompositeCursor.Position?, follow: Bool) -> String {
        var query: [String] = []
        switch position {
        case let .after(seq)?: query.append("after=" + CompositeCursor.agentCursor(ring: ring, seq: seq))
        case let .since(time)?: query.append("since=\(time)")
        case nil:
            if after == nil {
                if let since { query.append("since=\(since)") }
                if let lines { query.append("lines=\(lines)") }
            }
        }
        if !filters.isEmpty { query.append(filters) }
        if let limitBytes { query.append("limit_bytes=\(limitBytes)") }
        if follow { query.append("follow=true") }
        return query.joined(separator: "&")
    }

    /// The agent query that resumes `ring` at `seq`, shaped by `filters`.
    static func agentQuery(ring: String, after seq: UInt64, filters: String, follow: Bool) -> String {
        [filters, "after=" + CompositeCursor.agentCursor(ring: ring, seq: seq), follow ? "follow=true" : ""]
            .filter { !$0.isEmpty }.joined(separator: "&")
    }

    /// The part of an agent query that shapes which items come, not where they start.
    var filters: String {
        var query: [String] = []
        if let until { query.append("until=\(until)") }
        if let stream, stream != "all" { query.append("stream=\(stream)") }
        if let grep { query.append("grep=\(grep.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? grep)") }
        return query.joined(separator: "&")
    }
}

/// Reads several rings through their agents and merges them by time. Each item handed out
/// carries a composite cursor: every ring's position right after it, so that a client that
/// resumes from it gets every line exactly once.
struct MergedLogs: Sendable {
    let client: AgentClient
    let shared: SharedFollows
    let heartbeat: Duration
    static let pageItems = 5000

    struct Page {
        var items: [LogItem]
        var next: CompositeCursor
        var warnings: [String]
        /// Whether the page holds everything there was (no page limit cut it).
        var complete: Bool
    }

    func page(_ rings: [(AgentEndpoint, AgentRing)], _ request: LogRequest, limit: Int = MergedLogs.pageItems) async -> Page {
        let fetched = await withTaskGroup(of: (Int, [LogItem], String?).self) { group in
            for (index, (agent, ring)) in rings.enumerated() {
                let query = request.agentQuery(ring: ring.id, from: request.after?.positions[ring.id], follow: false)
                group.addTask {
                    var items: [LogItem] = []
                    do {
                        for try await item in client.items(agent, ring: ring.id, query: query) {
                            items.append(item)
                            if items.count > limit { break }
                        }
                        return (index, items, nil)
                    } catch {
                        return (index, items, "\(agent.node) is unreachable: \(error)")
                    }
                }
            }
            var all = [(Int, [LogItem], String?)]()
            for await result in group { all.append(result) }
            return all.sorted { $0.0 < $1.0 }
        }
        var merged: [(time: String, ring: Int, order: Int, item: LogItem)] = []
        for (ring, items, _) in fetched {
            var last = ""
            for (order, item) in items.enumerated() {
                last = item.datetime ?? last
                merged.append((last, ring, order, item))
            }
        }
        merged.sort { ($0.time, $0.ring, $0.order) < ($1.time, $1.ring, $1.order) }
        if request.after == nil, request.since == nil, let lines = request.lines, merged.count > lines {
            merged.removeFirst(merged.count - lines)
        }
        let complete = merged.count <= limit
        if merged.count > limit { merged.removeLast(merged.count - limit) }

        var positions = request.after?.positions ?? [:]
        for (index, items, _) in fetched where positions[rings[index].1.id] == nil {
            let ring = rings[index].1
            if let first = items.first?.datetime.flatMap(NanoTime.parse) {
                positions[ring.id] = .since(first)
            } else if let end = CompositeCursor.seq(ofAgentCursor: ring.endCursor) {
                positions[ring.id] = .after(end)
            }
        }
        var out: [LogItem] = []
        out.reserveCapacity(merged.count)
        for entry in merged {
            var item = entry.item
            let (agent, ring) = rings[entry.ring]
            if let seq = CompositeCursor.seq(ofAgentCursor: item.cursor) { positions[ring.id] = .after(seq) }
            item.cursor = CompositeCursor(positions: positions).text
            item.node = agent.node
            out.append(item)
        }
        return Page(items: out, next: CompositeCursor(positions: positions), warnings: fetched.compactMap(\.2), complete: complete)
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
                var query = request
                query.after = position == nil ? nil : start
                query.lines = nil
                query.since = nil
                items = client.items(agent, ring: ring.id, query: query.agentQuery(ring: ring.id, from: position, follow: true))
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
        for (agent, ring) in rings { tasks.add(upstream(agent, ring, from: start.positions[ring.id])) }
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
                        item.node = agent.node
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
