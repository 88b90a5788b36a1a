import HTTPEnvelope
import Hummingbird
import LogModel
import Synchronization

/// How much one caller may ask: requests per identity (a token bucket each), and open follows
/// per tool. Past either: 429.
public struct GatewayLimits: Sendable {
    public var requestsPerSecond: UInt64
    public var burst: UInt64
    public var followsPerTool: Int

    public init(requestsPerSecond: UInt64 = 20, burst: UInt64 = 100, followsPerTool: Int = 20) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.followsPerTool = followsPerTool
    }
}

/// The request rate limit, after identity: each identity has its own bucket.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let limits: GatewayLimits
    private let buckets = Buckets()

    private final class Buckets: Sendable {
        let table = Mutex<[String: TokenBucket]>([:])
    }
    /// Callers remembered at most; past it the table starts over (a burst for everyone, once).
    static let maxCallers = 100_000

    init(limits: GatewayLimits) { self.limits = limits }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let identity = Identity.current {
            let now = NanoTime.now()
            let allowed = buckets.table.withLock { buckets in
                if buckets.count > Self.maxCallers { buckets.removeAll() }
                var bucket = buckets[identity.description] ?? TokenBucket(rate: limits.requestsPerSecond, burst: limits.burst, now: now)
                defer { buckets[identity.description] = bucket }
                return bucket.take(1, now: now)
            }
            guard allowed else {
                // A token comes back within a second at any rate of at least one a second.
                throw EnvelopeError(.tooManyRequests, "too many requests from \(identity): at most \(limits.requestsPerSecond) a second",
                                    retryAfter: 1)
            }
        }
        return try await next(request, context)
    }
}

/// Open follows per tool.
final class FollowSlots: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    func acquire(_ tool: String) throws {
        let granted = open.withLock { open in
            guard open[tool, default: 0] < limit else { return false }
            open[tool, default: 0] += 1
            return true
        }
        // A place comes back when one of the tool's follows ends: nobody knows when.
        guard granted else { throw EnvelopeError(.tooManyRequests, "\(tool) already has \(limit) open follows", retryAfter: 5) }
    }

    /// Open follows of all tools.
    var total: Int { open.withLock { $0.values.reduce(0, +) } }

    func release(_ tool: String) {
        open.withLock { open in
            open[tool, default: 1] -= 1
            if open[tool] == 0 { open[tool] = nil }
        }
    }
}
