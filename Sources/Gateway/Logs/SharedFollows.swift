import AgentWire
import Foundation
import LogModel
import Synchronization

/// What a follow of one ring hands on: the agent's items, and a warning when the agent cannot
/// be reached.
enum Followed: Sendable {
    case item(AgentItem)
    case warning(String)
}

/// Live follows of one ring share one pull from its agent: the pull appends to a bounded
/// buffer, and each follower reads it at its own pace. A follower that falls behind the buffer
/// (or started before it) catches up from the agent by cursor, so a slow reader never slows the
/// pull or the others. The pull retries an agent that went away, from where it was.
final class SharedFollows: Sendable {
    let client: AgentClient
    /// Items kept per ring for followers to read.
    let capacity: Int
    private let pulls = Mutex<[Pull.Key: Pull]>([:])

    init(client: AgentClient, capacity: Int = 4096) {
        self.client = client
        self.capacity = capacity
    }

    /// Pulls running now (a metric, and what the tests check).
    var activePulls: Int { pulls.withLock { $0.count } }

    /// The items of `ring` from `position` on, live, read as `shape` says (stream, grep, until).
    /// Finishes when the agent says nothing more will come (the ring finished, or `until` passed).
    func follow(_ agent: AgentEndpoint, ring: String, from position: UInt64, shape: RingReadQuery) -> BoundedStream<Followed> {
        let key = Pull.Key(url: agent.url, ring: ring, shape: shape)
        let (client, capacity) = (client, capacity)
        let pull = pulls.withLock { all in
            let pull = all[key] ?? Pull(client: client, agent: agent, key: key, start: position, capacity: capacity)
            all[key] = pull
            pull.retain()
            return pull
        }
        let (items, sender) = BoundedStream<Followed>.make(capacity: AgentClient.itemsAhead)
        let task = Task {
            var position = position
            var warned = 0
            while !Task.isCancelled {
                let view = pull.read(from: position)
                if let warning = view.warning, warning.serial > warned {
                    warned = warning.serial
                    guard await sender.send(.warning(warning.text)) else { return }
                }
                if view.behind {
                    do {
                        var query = key.shape
                        query.after = position
                        for try await item in client.items(agent, ring: ring, query) where item.type != .heartbeat {
                            guard await sender.send(.item(item)) else { return }
                            position = item.next
                        }
                        // Read to the agent's end, which is past the buffer's start: a filter
                        // that matched nothing there must not send this follower back for more.
                        position = max(position, view.base)
                    } catch {
                        // The pull says so too; wait for it rather than spin.
                        await pull.waitForChange(after: view.version)
                    }
                    continue
                }
                // Handed on one by one at the reader's pace: one that falls behind the buffer
                // meanwhile finds itself behind on its next look, and catches up from the agent.
                for item in view.items {
                    guard await sender.send(.item(item)) else { return }
                    position = item.next
                }
                if view.items.isEmpty {
                    if view.finished { break }
                    await pull.waitForChange(after: view.version)
                }
            }
            sender.finish()
        }
        items.onTermination { [weak self] in
            task.cancel()
            self?.release(pull)
        }
        return items
    }

    private func release(_ pull: Pull) {
        pulls.withLock { all in
            if pull.release(), all[pull.key] === pull { all[pull.key] = nil }
        }
    }
}

/// One ring's live pull and its buffer.
final class Pull: Sendable {
    struct Key: Hashable, Sendable {
        var url: String
        var ring: String
        var shape: RingReadQuery
    }

    /// What a follower at some position may take now.
    struct View {
        /// At most `Pull.batch` of them, copied: a slow follower holds no old buffer alive.
        var items: [AgentItem]
        /// Items between the follower's position and the buffer's start are gone from it.
        var behind: Bool
        /// The buffer holds every item from this position on.
        var base: UInt64
        var finished: Bool
        var warning: (serial: Int, text: String)?
        var version: UInt64
    }

    private struct State {
        /// Ascending.
        var entries: [AgentItem] = []
        /// The buffer holds every item from this position on.
        var base: UInt64
        var finished = false
        /// Trouble with the agent now, if any; `warnings` counts each new one, so that a
        /// follower says each once and one joining after it has passed says nothing.
        var trouble: String?
        var warnings = 0
        var warning: (serial: Int, text: String)? { trouble.map { (warnings, $0) } }
        var version: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var followers = 0
    }

    static let batch = 256

    let key: Key
    private let state: Mutex<State>
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(client: AgentClient, agent: AgentEndpoint, key: Key, start: UInt64, capacity: Int) {
        self.key = key
        state = Mutex(State(base: start))
        let pullTask = Task { [weak self] in
            var position = start
            var backoff = Duration.milliseconds(250)
            while !Task.isCancelled {
                var query = key.shape
                query.after = position
                query.follow = true
                do {
                    for try await item in client.items(agent, ring: key.ring, query) where item.type != .heartbeat {
                        guard let self else { return }
                        self.append(item, capacity: capacity)
                        position = item.next
                        backoff = .milliseconds(250)
                    }
                    // An agent ends a follow cleanly only when nothing more will come.
                    self?.update { $0.finished = true }
                    return
                } catch {
                    if Task.isCancelled { return }
                    self?.update { state in
                        let text = "\(error); following again when it answers"
                        if state.trouble != text {
                            state.trouble = text
                            state.warnings += 1
                        }
                    }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        }
        task.withLock { $0 = pullTask }
    }

    func retain() { state.withLock { $0.followers += 1 } }

    /// True when the last follower left: the pull stops.
    func release() -> Bool {
        let last = state.withLock { state -> Bool in
            state.followers -= 1
            return state.followers == 0
        }
        if last { task.withLock { $0?.cancel() } }
        return last
    }

    func read(from position: UInt64) -> View {
        state.withLock { state in
            if position < state.base {
                return View(items: [], behind: true, base: state.base, finished: false, warning: state.warning, version: state.version)
            }
            let start = state.entries.partitionPoint { $0.next <= position }
            let items = Array(state.entries[start..<min(start + Pull.batch, state.entries.count)])
            return View(items: items, behind: false, base: state.base, finished: state.finished, warning: state.warning, version: state.version)
        }
    }

    /// Returns when something changed after `version`, or the task is cancelled.
    func waitForChange(after version: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await suspend(park: { continuation in
            state.withLock { state in
                guard state.version <= version, !Task.isCancelled else { return false }
                state.waiters[id] = continuation
                return true
            }
        }, unpark: { self.state.withLock { $0.waiters.removeValue(forKey: id) } })
    }

    private func append(_ item: AgentItem, capacity: Int) {
        update { state in
            state.entries.append(item)
            state.trouble = nil
            if state.entries.count > capacity {
                let dropped = state.entries.count - capacity / 2
                state.base = state.entries[dropped - 1].next
                state.entries.removeFirst(dropped)
            }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            state.version += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension Array {
    /// The first index whose element `belongsAfter` rejects, in an array partitioned by it.
    func partitionPoint(_ belongsBefore: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsBefore(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
