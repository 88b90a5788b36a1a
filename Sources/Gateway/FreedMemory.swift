import CMalloc
import Dispatch
import ServiceLifecycle
import Synchronization

/// Hands back to the system the memory that the allocator holds free. A burst of big reads
/// (fifty clients reading NDJSON at once) holds thousands of items a page while they are merged
/// and encoded, and glibc keeps what they freed in its per-thread arenas: the gateway stayed at
/// 170 MiB after such a burst, and went to 58 MiB on a `malloc_trim` (measured: not a leak).
/// So every `interval`, when more than `slack` bytes have come free since the last trim, they
/// are trimmed. (Since the last trim: the free bytes glibc counts include those trimmed, whose
/// chunks stay in its lists, so a fragmented heap would otherwise be trimmed every time.)
struct FreedMemory: Service {
    var interval: Duration = .seconds(2)
    var slack = 16 << 20

    func run() async throws {
        let trimmer = Trimmer(slack: slack)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            Trimmer.queue.async { trimmer.trimIfWorthIt() }
        }
    }

    private final class Trimmer: Sendable {
        /// Looking and trimming take the arenas' locks and walk their free lists (milliseconds
        /// after a burst): not on the cooperative pool.
        static let queue = DispatchQueue(label: "freed-memory")
        let slack: Int
        /// What lay free right after the last trim.
        private let floor = Mutex(0)

        init(slack: Int) { self.slack = slack }

        func trimIfWorthIt() {
            let free = Int(mallinfo2().fordblks)
            floor.withLock { floor in
                if free < floor { floor = free }  // reused since: count from there
                guard free > floor + slack else { return }
                malloc_trim(0)
                floor = Int(mallinfo2().fordblks)
            }
        }
    }
}
