/// A byte rate limit with a burst: `rate` bytes a second on average, up to `burst` at once.
public struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: Int64

    public init(rate: UInt64, burst: UInt64, now: Int64) {
        self.rate = Double(rate)
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        updatedAt = now
    }

    /// Takes `cost` tokens if there are enough; `now` in nanoseconds.
    public mutating func take(_ cost: Int, now: Int64) -> Bool {
        if now > updatedAt {
            tokens = min(burst, tokens + Double(now - updatedAt) / 1e9 * rate)
            updatedAt = now
        }
        guard tokens >= Double(cost) else { return false }
        tokens -= Double(cost)
        return true
    }
}
