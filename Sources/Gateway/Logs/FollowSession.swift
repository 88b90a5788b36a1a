import AgentWire
import LogModel
import Synchronization

/// A live follow of several rings after a first page: an upstream task per ring hands its
/// items in as the agent sends them, a ticker beats while all is quiet and asks now and then
/// for rings that appeared since (new pods of a continuous job or webservice), and one task
/// turns what comes in into entries (`FollowMarks`). Everything ends when the reader goes.
final class FollowSession: Sendable {
    let entries: BoundedStream<ReadEntry>
    private let events: BoundedStream<FollowMarks.Event>
    private let sink: BoundedStream<FollowMarks.Event>.Sender
    private let tasks = TaskBag()
    private let followed: RingSet
    private let client: AgentClient
    private let shared: SharedFollows
    private let request: LogRequest

    /// `start`: each ring's position after the first page. `more()` names the rings of the read
    /// now; those not yet followed are followed from their start. With `endsWhenFinished` (a
    /// given run, a build, an end time) the follow ends when all its rings have.
    init(_ rings: [(AgentEndpoint, AgentRing)], from start: CompositeCursor, _ request: LogRequest, endsWhenFinished: Bool,
         heartbeat: Duration, client: AgentClient, shared: SharedFollows,
         more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) {
        (events, sink) = BoundedStream<FollowMarks.Event>.make(capacity: AgentClient.itemsAhead)
        let (entries, out) = BoundedStream<ReadEntry>.make(capacity: AgentClient.itemsAhead)
        self.entries = entries
        self.client = client
        self.shared = shared
        self.request = request
        followed = RingSet(rings.map(\.1.id))
        for (agent, ring) in rings { tasks.add(upstream(agent, ring, from: start.position(of: ring.id))) }
        tasks.add(ticker(every: heartbeat, more: more))
        tasks.add(merge(FollowMarks(positions: start.positions, endsWhenFinished: endsWhenFinished), into: out))
        entries.onTermination { [tasks, sink] in
            tasks.cancelAll()
            sink.finish()
        }
    }

    /// One ring's items, from a cursor or its start through the pull its followers share, or
    /// (with a byte budget of its own, which a shared pull cannot have) a pull of its own.
    private func upstream(_ agent: AgentEndpoint, _ ring: AgentRing, from position: CompositeCursor.Position?) -> Task<Void, Never> {
        var start: UInt64?
        switch position {
        case let .after(seq)? where request.limitBytes == nil: start = seq
        case nil where request.limitBytes == nil: start = 0
        default: start = nil
        }
        return Task { [sink, shared, client, request] in
            @Sendable func pass(_ followed: Followed) async -> Bool {
                switch followed {
                case let .item(item): item.type == .heartbeat ? true : await sink.send(.item(ring: ring.id, item))
                case let .warning(text): await sink.send(.warning(text))
                }
            }
            do {
                if let start {
                    for try await followed in shared.follow(agent, ring: ring.id, from: start, shape: request.shape) {
                        guard await pass(followed) else { return }
                    }
                } else {
                    for try await item in client.items(agent, ring: ring.id, request.ringQuery(from: position, count: nil, follow: true)) {
                        guard await pass(.item(item)) else { return }
                    }
                }
                await sink.send(.ended(ring: ring.id))
            } catch {
                if !Task.isCancelled { await sink.send(.warning("\(error)")) }
            }
        }
    }

    private func ticker(every heartbeat: Duration, more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) -> Task<Void, Never> {
        Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                guard !Task.isCancelled, await sink.send(.tick) else { break }
                for (agent, ring) in await more() where followed.insert(ring.id) {
                    tasks.add(upstream(agent, ring, from: nil))
                }
            }
        }
    }

    private func merge(_ marks: FollowMarks, into out: BoundedStream<ReadEntry>.Sender) -> Task<Void, Never> {
        Task { [events, followed] in
            var marks = marks
            do {
                for try await event in events {
                    switch marks.take(event, following: followed.all, now: NanoTime.now()) {
                    case let .send(entry): guard await out.send(entry) else { return }
                    case .nothing: continue
                    case .end: return out.finish()
                    }
                }
            } catch is CancellationError {
                // The client went: there is no one left to tell.
            } catch {
                _ = await out.send(.message("the merge of this follow stopped: \(error)", level: "warning"))
            }
            out.finish()
        }
    }
}

/// The pure half of a follow: what each event of its upstreams becomes, and each ring's
/// position after it. A follow's items come in the order the agents send them, so each carries
/// every ring's position (a `c1.` cursor), not a mark.
struct FollowMarks {
    enum Event: Sendable {
        case item(ring: String, AgentItem)
        case warning(String)
        /// The agent said nothing more will come of this ring.
        case ended(ring: String)
        case tick
    }

    enum Step {
        case send(ReadEntry)
        case nothing
        /// Every ring followed has ended, and the follow ends with them.
        case end
    }

    var positions: [String: CompositeCursor.Position]
    var endsWhenFinished: Bool
    private(set) var ended: Set<String> = []

    init(positions: [String: CompositeCursor.Position], endsWhenFinished: Bool) {
        self.positions = positions
        self.endsWhenFinished = endsWhenFinished
    }

    /// `following`: the rings followed now (more may have joined since the start); `now`: the
    /// time given to a heartbeat and to an item without one (a gap).
    mutating func take(_ event: Event, following: @autoclosure () -> Set<String>, now: Int64) -> Step {
        switch event {
        case .tick:
            return .send(ReadEntry(LogItem(type: .heartbeat, datetime: NanoTime.format(now))))
        case let .warning(text):
            return .send(.message(text, level: "warning"))
        case let .ended(ring):
            ended.insert(ring)
            return endsWhenFinished && following().isSubset(of: ended) ? .end : .nothing
        case let .item(ring, item):
            positions[ring] = .after(item.next)
            var entry = ReadEntry(item)
            entry.cursor = CompositeCursor(positions: positions).text
            if item.time == nil { entry.datetime = NanoTime.format(now) }
            return .send(entry)
        }
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
