/// A condition that did not come true in time.
public struct Timeout: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "timed out waiting for \(what)" }

    public init(what: String) { self.what = what }
}

/// Polls `body` until it returns a value, for at most `timeout`. An error `body` throws ends the
/// wait at once: "not yet" is nil, anything else is a failure worth seeing.
public func eventually<T>(_ what: String, timeout: Duration = .seconds(20), _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await body() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw Timeout(what: what)
}

/// Polls until `condition` holds, for at most `timeout`.
public func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    _ = try await eventually(what, timeout: timeout) { try await condition() ? true : nil }
}
