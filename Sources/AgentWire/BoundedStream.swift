import Synchronization

/// A one-consumer async sequence with room for `capacity` elements, whose producers wait for
/// room. `AsyncThrowingStream` can only grow without bound or drop: between an agent and a
/// client that reads slowly, the one costs the gateway unbounded memory and the other loses
/// lines. Here a slow reader holds back whatever feeds it, down to the agent's socket, and a
/// shared pull leaves it behind to catch up by cursor (`SharedFollows`).
///
/// When the consumer goes (the stream is released, read to the end or not), producers' sends
/// return false and `onTermination` runs, so that they stop.
public final class BoundedStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error
    private let storage: Storage

    /// The producers' end.
    public struct Sender: Sendable {
        fileprivate let storage: Storage

        /// Waits for room, then hands `element` on. False when nobody will read it (the consumer
        /// went, the stream was finished, or the calling task was cancelled): stop producing.
        @discardableResult
        public func send(_ element: Element) async -> Bool { await storage.send(element) }

        /// Ends the stream after what is buffered; with an error, the consumer gets it then.
        public func finish(throwing error: (any Error)? = nil) { storage.finish(error) }

        /// Who is parked now: for tests, which must wait for a task to park, not sleep and hope.
        package var parked: (producers: Int, consumer: Bool) { storage.parked }
    }

    public static func make(capacity: Int) -> (stream: BoundedStream, sender: Sender) {
        let storage = Storage(capacity: capacity)
        return (BoundedStream(storage), Sender(storage: storage))
    }

    private init(_ storage: Storage) { self.storage = storage }

    deinit { storage.consumerGone() }

    /// Ends the stream from outside, as when its client went away: producers stop as if the
    /// consumer had gone, and the consumer gets `error` after what is buffered.
    public func cancel(throwing error: any Error = CancellationError()) { storage.finish(error) }

    /// Runs once when the consumer goes or the stream finishes; at once if that already happened.
    public func onTermination(_ action: @escaping @Sendable () -> Void) { storage.onTermination(action) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        // Keeps the stream alive while it is read: its release is the consumer going.
        let stream: BoundedStream
        public mutating func next() async throws -> Element? { try await stream.storage.receive() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }

    fileprivate final class Storage: Sendable {
        private struct State {
            var buffer: [Element] = []
            /// Set when finished: what the consumer gets once the buffer is empty.
            var end: Result<Void, any Error>?
            var consumerGone = false
            var consumer: CheckedContinuation<Void, Never>?
            var producers: [Int: CheckedContinuation<Void, Never>] = [:]
            var nextProducer = 0
            var termination: (@Sendable () -> Void)?
            var terminated = false

            var closed: Bool { consumerGone || end != nil }

            /// Marks the end of the stream's life; returns what to run and whom to wake.
            mutating func terminate() -> (action: (@Sendable () -> Void)?, waiting: [CheckedContinuation<Void, Never>]) {
                var waiting = Array(producers.values)
                producers = [:]
                if let consumer { waiting.append(consumer) }
                consumer = nil
                guard !terminated else { return (nil, waiting) }
                terminated = true
                defer { termination = nil }
                return (termination, waiting)
            }
        }

        let capacity: Int
        private let state = Mutex(State())

        var parked: (producers: Int, consumer: Bool) { state.withLock { ($0.producers.count, $0.consumer != nil) } }

        init(capacity: Int) { self.capacity = Swift.max(1, capacity) }

        public func send(_ element: Element) async -> Bool {
            while !Task.isCancelled {
                let (sent, closed, consumer) = state.withLock { state -> (Bool, Bool, CheckedContinuation<Void, Never>?) in
                    if state.closed { return (false, true, nil) }
                    guard state.buffer.count < capacity else { return (false, false, nil) }
                    state.buffer.append(element)
                    defer { state.consumer = nil }
                    return (true, false, state.consumer)
                }
                consumer?.resume()
                if sent { return true }
                if closed { return false }
                await waitForRoom()
            }
            return false
        }

        private func waitForRoom() async {
            let id = state.withLock { state -> Int in
                state.nextProducer += 1
                return state.nextProducer
            }
            await suspend(park: { continuation in
                state.withLock { state in
                    guard state.buffer.count >= capacity, !state.closed, !Task.isCancelled else { return false }
                    state.producers[id] = continuation
                    return true
                }
            }, unpark: { self.state.withLock { $0.producers.removeValue(forKey: id) } })
        }

        func receive() async throws -> Element? {
            while true {
                let (element, end, producer) = state.withLock { state -> (Element?, Result<Void, any Error>?, CheckedContinuation<Void, Never>?) in
                    if !state.buffer.isEmpty {
                        let element = state.buffer.removeFirst()
                        // One element out is room for one waiting producer.
                        let key = state.producers.keys.min()
                        return (element, nil, key.flatMap { state.producers.removeValue(forKey: $0) })
                    }
                    guard let end = state.end else { return (nil, nil, nil) }
                    // An error is said once; after it the stream just ends.
                    state.end = .success(())
                    return (nil, end, nil)
                }
                producer?.resume()
                if let element { return element }
                if let end {
                    try end.get()
                    return nil
                }
                // Cancelled while waiting is not the end of the stream: a clean end means
                // nothing more will come, which the client would believe.
                try Task.checkCancellation()
                await waitForElement()
            }
        }

        private func waitForElement() async {
            await suspend(park: { continuation in
                state.withLock { state in
                    guard state.buffer.isEmpty, state.end == nil, !Task.isCancelled else { return false }
                    state.consumer = continuation
                    return true
                }
            }, unpark: {
                self.state.withLock { state in
                    defer { state.consumer = nil }
                    return state.consumer
                }
            })
        }

        func finish(_ error: (any Error)?) {
            let (action, waiting) = state.withLock { state in
                if state.end == nil { state.end = error.map { .failure($0) } ?? .success(()) }
                return state.terminate()
            }
            waiting.forEach { $0.resume() }
            action?()
        }

        func consumerGone() {
            let (action, waiting) = state.withLock { state in
                state.consumerGone = true
                state.buffer.removeAll()
                return state.terminate()
            }
            waiting.forEach { $0.resume() }
            action?()
        }

        public func onTermination(_ action: @escaping @Sendable () -> Void) {
            let runNow = state.withLock { state -> Bool in
                if state.terminated { return true }
                state.termination = action
                return false
            }
            if runNow { action() }
        }
    }
}
