import CMalloc
import Dispatch
import ServiceLifecycle
import Synchronization

/// Hands back to the system the memory that the allocator holds free. A burst of big reads
/// (fifty clients reading NDJSON at once) holds thousands of items a page while they are merged
/// and encoded, and glibc keeps what they freed in its per-thread arenas: the gateway stayed at
/// 170 MiB after such a burst, and went to 58 MiB on a `malloc_trim` (measured: not a leak).
/// So when more than `slack` bytes lie free in the arenas, they are trimmed: every `interval`
/// while trimming gives memory back, less and less often (to 64 times as seldom) while it
/// gives none (glibc counts trimmed pages as free still, so a fragmented heap would otherwise
/// be walked every time for nothing).
struct FreedMemory: Service {
    var interval: Duration = .seconds(2)
    var slack = 16 << 20

    func run() async throws {
        let trimmer = Trimmer(slack: slack)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            Trimmer.queue.async { trimmer.tick() }
        }
    }

    private final class Trimmer: Sendable {
        /// Looking and trimming take the arenas' locks and walk their free lists (milliseconds
        /// after a burst): not on the cooperative pool.
        static let queue = DispatchQueue(label: "freed-memory")
        let slack: Int
        /// Ticks to let pass before the next try, and how many have.
        private let backOff = Mutex((every: 1, waited: 0))

        init(slack: Int) { self.slack = slack }

        func tick() {
            backOff.withLock { backOff in
                backOff.waited += 1
                guard backOff.waited >= backOff.every, Int(mallinfo2().fordblks) > slack else { return }
                backOff.waited = 0
                backOff.every = malloc_trim(0) == 1 ? 1 : min(backOff.every * 2, 64)
            }
        }
    }
}
