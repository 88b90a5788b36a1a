import AgentWire
import LogModel
import Synchronization

/// A live follow of several rings after a first page, read as the entries it hands out: an
/// upstream task per ring hands its items in as the agent sends them, and a ticker beats while
/// all is quiet and asks now and then for rings that appeared since (new pods of a continuous
/// job or webservice); the reader turns what comes in into entries (`FollowMarks`) as it reads,
/// with no task between. Nothing but the reader holds the events: when it goes, the tasks are
/// cancelled.
struct FollowSession: AsyncSequence, Sendable {
    typealias Element = ReadEntry
    private let events: BoundedStream<FollowMarks.Event>
    private let marks: FollowMarks
    private let followed: RingSet

    /// `start`: each ring's position after the first page. `more()` names the rings of the read
    /// now; those not yet followed are followed from their start. With `endsWhenFinished` (a
    /// given run, a build, an end time) the follow ends when all its rings have.
    init(_ rings: [(AgentEndpoint, AgentRing)], from start: CompositeCursor, _ request: LogRequest, endsWhenFinished: Bool,
         heartbeat: Duration, client: AgentClient, shared: SharedFollows,
         more: @escaping @Sendable () async -> [(AgentEndpoint, AgentRing)]) {
        let (events, sink) = BoundedStream<FollowMarks.Event>.make(capacity: AgentClient.itemsAhead)
        let tasks = TaskBag()
        let followed = RingSet(rings.map(\.1.id))
        let upstreams = Upstreams(sink: sink, client: client, shared: shared, request: request)
        for (agent, ring) in rings { tasks.add(upstreams.start(agent, ring, from: start.position(of: ring.id))) }
        tasks.add(Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                guard !Task.isCancelled, await sink.send(.tick) else { break }
                for (agent, ring) in await more() where followed.insert(ring.id) {
                    tasks.add(upstreams.start(agent, ring, from: nil))
                }
            }
        })
        events.onTermination {
            tasks.cancelAll()
            sink.finish()
        }
        self.events = events
        self.followed = followed
        marks = FollowMarks(positions: start.positions, endsWhenFinished: endsWhenFinished)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var events: BoundedStream<FollowMarks.Event>.AsyncIterator
        var marks: FollowMarks
        fileprivate let followed: RingSet

        /// The next entry; nil once every ring of a follow with an end has ended.
        mutating func next() async throws -> ReadEntry? {
            while let event = try await events.next() {
                switch marks.take(event, following: followed.all, now: NanoTime.now()) {
                case let .send(entry): return entry
                case .nothing: continue
                case .end: return nil
                }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(events: events.makeAsyncIterator(), marks: marks, followed: followed) }
}

/// Where each ring's items come from: from a cursor or its start through the pull its
/// followers share, or (with a byte budget of its own, which a shared pull cannot have) a pull
/// of its own.
private struct Upstreams: Sendable {
    let sink: BoundedStream<FollowMarks.Event>.Sender
    let client: AgentClient
    let shared: SharedFollows
    let request: LogRequest

    func start(_ agent: AgentEndpoint, _ ring: AgentRing, from position: CompositeCursor.Position?) -> Task<Void, Never> {
        var start: UInt64?
        switch position {
        case let .after(seq)? where request.limitBytes == nil: start = seq
        case nil where request.limitBytes == nil: start = 0
        default: start = nil
        }
        return Task { [self] in
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
            entry.cursor = CompositeCursor(positions: positions)
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
