import CMalloc
import Dispatch
import ServiceLifecycle

/// Hands back to the system the memory that the allocator holds free. A burst of big reads
/// (fifty clients reading NDJSON at once) holds thousands of items a page while they are merged
/// and encoded, and glibc keeps what they freed in its per-thread arenas: the gateway stayed at
/// 170 MiB after such a burst, and went to 58 MiB on a `malloc_trim` (measured: not a leak).
/// So every `interval`, when more than `slack` bytes lie free in the arenas, they are trimmed.
struct FreedMemory: Service {
    var interval: Duration = .seconds(2)
    var slack = 16 << 20
    /// Looking and trimming take the arenas' locks and walk their free lists (milliseconds after
    /// a burst): not on the cooperative pool.
    private static let queue = DispatchQueue(label: "freed-memory")

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let slack = slack
            Self.queue.async {
                if Int(mallinfo2().fordblks) > slack { malloc_trim(0) }
            }
        }
    }
}
