import DequeModule
import Synchronization

/// How many reads each tool may have running at once: one more waits up to `wait` for one of
/// them to end, then is refused (the server answers `429` with `Retry-After`), so that one
/// tool's many downloads queue behind each other, not in front of the other tools' reads.
public final class ToolAdmission: Sendable {
    /// Not admitted: the tool has `limit` reads running and none ended within the wait; or
    /// (`abandoned`) the caller gave up waiting, its client gone, and nobody is told.
    public struct Busy: Error, Sendable {
        public let tool: String
        public let limit: Int
        /// When to try again, in whole seconds (as `Retry-After` says it).
        public let retryAfter: Int
        public let abandoned: Bool
    }

    private enum Outcome { case admitted, timedOut, abandoned }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Outcome, Never>
        /// Ends the wait at `wait`; cancelled when a place comes first, so that a busy tool's
        /// admitted reads leave no sleeping task behind for the rest of the wait.
        var timer: Task<Void, Never>?
    }

    private struct State {
        var running: [String: Int] = [:]
        var waiters: [String: Deque<Waiter>] = [:]
        var nextID: UInt64 = 0
    }

    public let limit: Int
    public let wait: Duration
    private let state = Mutex(State())

    public init(limit: Int, wait: Duration) {
        precondition(limit > 0, "a tool must be allowed one read")
        self.limit = limit
        self.wait = wait
    }

    /// Reads running and waiting now, by tool.
    public var load: [String: (running: Int, waiting: Int)] {
        state.withLock { state in
            var load: [String: (running: Int, waiting: Int)] = [:]
            for (tool, running) in state.running { load[tool] = (running, 0) }
            for (tool, waiters) in state.waiters { load[tool, default: (0, 0)].waiting = waiters.count }
            return load
        }
    }

    /// One of a tool's places, held until released, or until the ticket is dropped (a response
    /// that was never written still gives its place back).
    public final class Ticket: Sendable {
        private let admission: ToolAdmission
        private let tool: String
        private let released = Atomic(false)

        init(_ admission: ToolAdmission, _ tool: String) {
            self.admission = admission
            self.tool = tool
        }

        public func release() {
            if !released.exchange(true, ordering: .acquiringAndReleasing) { admission.release(tool) }
        }

        deinit { release() }
    }

    /// Takes one of `tool`'s places, waiting for one up to `wait`. If it must wait, `abandon` is
    /// given an action that stops the wait at once (for when its client goes away).
    public func acquire(_ tool: String, abandon: (@escaping @Sendable () -> Void) -> Void = { _ in }) async throws(Busy) -> Ticket {
        let outcome = await withCheckedContinuation { continuation in
            // Deciding and queueing under one lock: a place given back in between is not lost.
            let queued: UInt64? = state.withLock { state in
                if state.running[tool, default: 0] < limit, state.waiters[tool] == nil {
                    state.running[tool, default: 0] += 1
                    return nil
                }
                state.nextID += 1
                state.waiters[tool, default: []].append(Waiter(id: state.nextID, continuation: continuation))
                return state.nextID
            }
            guard let id = queued else { return continuation.resume(returning: .admitted) }
            let timer = Task { [wait] in
                guard (try? await Task.sleep(for: wait)) != nil else { return }
                self.giveUp(tool, id, .timedOut)
            }
            let stillWaiting = state.withLock { state in
                guard let index = state.waiters[tool]?.firstIndex(where: { $0.id == id }) else { return false }
                state.waiters[tool]![index].timer = timer
                return true
            }
            if !stillWaiting { timer.cancel() }
            abandon { self.giveUp(tool, id, .abandoned) }
        }
        if outcome != .admitted {
            let seconds = wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0)
            throw Busy(tool: tool, limit: limit, retryAfter: max(1, Int(seconds)), abandoned: outcome == .abandoned)
        }
        return Ticket(self, tool)
    }

    /// Gives a place back: to the tool's longest waiter, if any.
    private func release(_ tool: String) {
        let waiter: Waiter? = state.withLock { state in
            if let waiter = state.waiters[tool]?.popFirst() {
                if state.waiters[tool]!.isEmpty { state.waiters[tool] = nil }
                return waiter  // the place passes to it: `running` stays
            }
            state.running[tool, default: 1] -= 1
            if state.running[tool] == 0 { state.running[tool] = nil }
            return nil
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(returning: .admitted)
    }

    private func giveUp(_ tool: String, _ id: UInt64, _ outcome: Outcome) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.waiters[tool]?.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.waiters[tool]!.remove(at: index)
            if state.waiters[tool]!.isEmpty { state.waiters[tool] = nil }
            return waiter
        }
        if outcome != .timedOut { waiter?.timer?.cancel() }
        waiter?.continuation.resume(returning: outcome)
    }
}
