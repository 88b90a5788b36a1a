import DequeModule
import NIOPosix
import Synchronization

/// Blocking work (ring reads, block decoding, scans) on threads of its own, cut by its callers
/// into slices (a page each) that take turns by tenant: every tenant with work waiting gets a
/// slice in turn, whatever the others queue, so a tool downloading two big logs delays another
/// tool's follow by a slice or two, not by the downloads. Nothing here runs on an event loop or
/// on Swift's cooperative pool, which stay free to move bytes (docs/architecture.md, "Threads").
///
/// No slice is ever classed as heavy or light: a page is the unit, and a tenant's long scan is
/// many slices, each of which comes behind one of every other tenant's.
public final class FairPool: Sendable {
    private typealias Slice = @Sendable () -> Void

    private struct State {
        /// Each tenant's slices waiting, oldest first.
        var waiting: [String: Deque<Slice>] = [:]
        /// Tenants with slices waiting, in the order their turns come.
        var turns: Deque<String> = []
        /// Threads running slices now.
        var running = 0
    }

    private let threads: NIOThreadPool
    private let width: Int
    /// Added to the nice value of each of the pool's threads (never lowered: that needs privilege).
    private let niceness: Int32
    private let state = Mutex(State())

    /// `niceness`: bulk work (merging and encoding downloads) may yield the CPU to the threads
    /// that move bytes and wake follows, when both want it; 0 leaves the threads as they are.
    public init(threads: Int, niceness: Int32 = 0) {
        precondition(threads > 0, "a pool needs a thread")
        precondition(niceness >= 0, "a pool cannot raise its threads' priority")
        width = threads
        self.niceness = niceness
        self.threads = NIOThreadPool(numberOfThreads: threads)
        self.threads.start()
    }

    public func shutdown() async throws { try await threads.shutdownGracefully() }

    /// Runs `work` on one of the pool's threads when `tenant`'s turn comes, and hands back what
    /// it returns or throws. A caller cancelled while waiting still runs: a slice is short.
    public func run<T: Sendable>(_ tenant: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(tenant) { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The same for work that cannot fail (a merge, an encoding).
    public func run<T: Sendable>(_ tenant: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            enqueue(tenant) { continuation.resume(returning: work()) }
        }
    }

    /// Slices waiting now, by tenant.
    public var waiting: [String: Int] { state.withLock { $0.waiting.mapValues(\.count) } }

    private func enqueue(_ tenant: String, _ slice: @escaping Slice) {
        let first: Slice? = state.withLock { state in
            state.waiting[tenant, default: []].append(slice)
            if state.waiting[tenant]!.count == 1 { state.turns.append(tenant) }
            guard state.running < width else { return nil }
            state.running += 1
            return Self.next(&state)
        }
        guard let first else { return }
        // A thread, once given a slice, goes on with whichever tenant's turn it is next, and
        // goes back to the pool when none is waiting.
        threads.submit { [self] _ in
            // On Linux the nice value is a thread's own: this one, not the process's.
            if niceness > 0 { Self.lowerPriority(by: niceness) }
            var slice: Slice? = first
            while let current = slice {
                current()
                slice = state.withLock { state in
                    guard !state.turns.isEmpty else {
                        state.running -= 1
                        return nil
                    }
                    return Self.next(&state)
                }
            }
        }
    }

    /// Adds `niceness` to the calling thread's nice value, once per thread (a thread's second
    /// call finds it done).
    private static func lowerPriority(by niceness: Int32) {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)
        guard errno == 0, current < niceness else { return }
        _ = setpriority(which, 0, min(current + niceness, 19))
    }

    /// The next tenant's oldest slice; the tenant goes to the back of the turns if it has more.
    private static func next(_ state: inout State) -> Slice {
        let tenant = state.turns.removeFirst()
        let slice = state.waiting[tenant]!.removeFirst()
        if state.waiting[tenant]!.isEmpty {
            state.waiting[tenant] = nil
        } else {
            state.turns.append(tenant)
        }
        return slice
    }
}
