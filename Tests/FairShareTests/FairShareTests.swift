import FairShare
import Foundation
import Synchronization
import Testing

/// Slices take turns by tenant; a tool's reads beyond its share wait, then are refused.
@Suite(.timeLimit(.minutes(1))) struct FairShareTests {
    /// One thread, tool A's long scan queued first as 40 slices, then one slice of tool B: B's
    /// comes after at most the slice running and one of A's, not after all of A's.
    /// What ran, in order.
    final class Order: Sendable {
        let tools = Mutex<[String]>([])
        var count: Int { tools.withLock { $0.count } }
    }

    @Sendable static func slice(_ tool: String, on pool: FairPool, _ order: Order) async throws {
        await pool.run(tool) {
            order.tools.withLock { $0.append(tool) }
            // A page's worth of work (the sleep blocks the pool's thread, as a read does).
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// One thread, held by a first slice while tool A queues a scan of 40 slices and then tool
    /// B one: B's comes after one of A's, not after all of them.
    @Test func aSliceOfAnotherToolComesBetweenTheSlicesOfAScan() async throws {
        let pool = FairPool(threads: 1)
        let order = Order()
        let gate = DispatchSemaphore(value: 0)
        let held = Task { await pool.run("gate") { gate.wait() } }
        let scan = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 { group.addTask { try await Self.slice("a", on: pool, order) } }
                try await group.waitForAll()
            }
        }
        try await waitFor { pool.waiting["a"] == 40 }
        let other = Task { try await Self.slice("b", on: pool, order) }
        try await waitFor { pool.waiting["b"] == 1 }
        gate.signal()
        await held.value
        try await other.value
        #expect(order.tools.withLock { $0.prefix { $0 != "b" }.count } == 1, "\(order.tools.withLock { $0 })")
        try await scan.value
        #expect(order.tools.withLock { $0.count { $0 == "a" } } == 40)
        try await pool.shutdown()
    }

    /// Polls `condition` (bounded: 10 s).
    func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<10_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        try #require(condition())
    }

    @Test func slicesRunOffTheCallersThreadAndHandBackWhatTheyThrow() async throws {
        struct Failure: Error, Equatable {}
        let pool = FairPool(threads: 2)
        #expect(await pool.run("a") { 6 * 7 } == 42)
        await #expect(throws: Failure()) { try await pool.run("a") { throw Failure() } }
        try await pool.shutdown()
    }

    @Test func aToolBeyondItsReadsWaitsThenIsRefusedAndOthersAreNot() async throws {
        let admission = ToolAdmission(limit: 2, wait: .seconds(1))
        let first = try await admission.acquire("a")
        let second = try await admission.acquire("a")
        // Tool b is not behind tool a.
        let other = try await admission.acquire("b")
        // A third read of a waits for a place, and gets it when one is given back.
        let waiting = Task { try await admission.acquire("a") }
        try await waitFor { admission.load["a"]?.waiting == 1 }
        first.release()
        let third = try await waiting.value
        #expect(admission.load["a"]?.running == 2)
        // None given back in time: refused, with when to come back.
        let started = ContinuousClock.now
        do {
            _ = try await admission.acquire("a")
            Issue.record("a read beyond the limit was let in")
        } catch {
            #expect(error.retryAfter == 1)
            #expect(error.limit == 2)
            #expect(!error.abandoned)
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
        for ticket in [second, third, other] { ticket.release() }
        #expect(admission.load.isEmpty, "\(admission.load)")
        // A ticket dropped without a release (a response never written) gives its place back.
        do { _ = try await admission.acquire("c") }
        #expect(admission.load["c"] == nil)
    }

    /// A waiter whose client went away leaves at once, said apart from a refusal, and the
    /// place it never got is not counted.
    @Test func aWaiterThatIsAbandonedLeavesAtOnce() async throws {
        let admission = ToolAdmission(limit: 1, wait: .seconds(30))
        let holder = try await admission.acquire("a")
        let giveUp = Mutex<(@Sendable () -> Void)?>(nil)
        let waiting = Task { () async throws(ToolAdmission.Busy) -> ToolAdmission.Ticket in
            try await admission.acquire("a") { action in giveUp.withLock { $0 = action } }
        }
        try await waitFor { admission.load["a"]?.waiting == 1 }
        let started = ContinuousClock.now
        giveUp.withLock { $0 }?()
        let result = await waiting.result
        #expect(ContinuousClock.now - started < .seconds(5))
        switch result {
        case .success: Issue.record("an abandoned waiter was let in")
        case let .failure(error): #expect((error as? ToolAdmission.Busy)?.abandoned == true)
        }
        #expect(admission.load["a"]?.running == 1 && admission.load["a"]?.waiting == 0)
        holder.release()
        #expect(admission.load.isEmpty, "\(admission.load)")
    }
}
