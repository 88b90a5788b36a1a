import AgentWire
import Synchronization
import TestSupport
import Testing
@testable import Gateway

/// The stream between an agent and a client: a producer waits for a slow consumer instead of
/// buffering, and stops when the consumer goes.
@Suite(.timeLimit(.minutes(3))) struct BoundedStreamTests {
    @Test func aProducerWaitsForRoomAndNothingIsLostOrReordered() async throws {
        let (stream, sender) = BoundedStream<Int>.make(capacity: 2)
        let sent = Atomic(0)
        let producer = Task {
            for n in 0..<10 {
                guard await sender.send(n) else { return }
                sent.add(1, ordering: .relaxed)
            }
            sender.finish()
        }
        try await waitUntil("the producer to wait for room") { sender.parked.producers == 1 }
        let sentWhileNobodyRead = sent.load(ordering: .relaxed)
        #expect(sentWhileNobodyRead == 2, "it stops at the capacity while nobody reads")
        var received: [Int] = []
        for try await n in stream { received.append(n) }
        #expect(received == Array(0..<10))
        await producer.value
    }

    @Test func whenTheConsumerGoesSendsFailAndTheProducerIsTold() async throws {
        let terminated = Atomic(false)
        // The sender apart, a constant: the closure that waits for it is sent to another task.
        var stream: BoundedStream<Int>?
        let sender: BoundedStream<Int>.Sender
        (stream, sender) = BoundedStream<Int>.make(capacity: 1)
        stream?.onTermination { terminated.store(true, ordering: .relaxed) }
        #expect(await sender.send(1))
        let blocked = Task { await sender.send(2) }
        try await waitUntil("the producer to wait for room") { sender.parked.producers == 1 }
        stream = nil
        #expect(await blocked.value == false, "a producer waiting for room is released")
        #expect(await sender.send(3) == false)
        let told = terminated.load(ordering: .relaxed)
        #expect(told)
    }

    @Test func anErrorComesAfterWhatWasSent() async throws {
        struct Broken: Error {}
        let (stream, sender) = BoundedStream<Int>.make(capacity: 4)
        await sender.send(1)
        await sender.send(2)
        sender.finish(throwing: Broken())
        #expect(await sender.send(3) == false)
        var received: [Int] = []
        await #expect(throws: Broken.self) {
            for try await n in stream { received.append(n) }
        }
        #expect(received == [1, 2])
    }

    @Test func aCancelledReaderIsNotAToldEnd() async throws {
        let (stream, sender) = BoundedStream<Int>.make(capacity: 1)
        let reader = Task { () -> Result<Int?, any Error> in
            var iterator = stream.makeAsyncIterator()
            do { return .success(try await iterator.next()) } catch { return .failure(error) }
        }
        try await waitUntil("the reader to wait") { sender.parked.consumer }
        reader.cancel()
        guard case .failure(is CancellationError) = await reader.value else {
            Issue.record("a cancelled read must throw, not end the stream cleanly")
            return
        }
    }
}
