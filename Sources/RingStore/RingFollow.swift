/// Records and gaps as they are appended, from a position on. The writer wakes the follower;
/// nothing polls. It ends when the ring is finished (or deleted) and everything was read, and
/// ends quietly when its task is cancelled.
public struct RingFollow: AsyncSequence, Sendable {
    public typealias Element = ReadItem

    let ring: Ring
    let start: UInt64
    let streams: Set<LogStream>?
    let batch: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(ring: ring, next: start, streams: streams, batch: batch)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let ring: Ring
        var next: UInt64
        let streams: Set<LogStream>?
        let batch: Int
        var buffered: [ReadItem] = []
        var index = 0

        public mutating func next() async throws -> ReadItem? {
            while true {
                if index < buffered.count {
                    defer { index += 1 }
                    return buffered[index]
                }
                if Task.isCancelled || ring.isDeleted { return nil }
                // Take the version before reading, so an append in between is never missed.
                let version = ring.version
                let result = try ring.read(ReadRequest(start: .seq(next), maxItems: batch, streams: streams))
                next = result.next
                buffered = result.items
                index = 0
                if !buffered.isEmpty || result.end == .limit { continue }
                if result.finished { return nil }
                await ring.waitForChange(after: version)
            }
        }
    }
}

extension Ring {
    /// Follows the ring from `seq` (a cursor position) on.
    public func follow(from seq: UInt64, streams: Set<LogStream>? = nil, batch: Int = 1024) -> RingFollow {
        RingFollow(ring: self, start: seq, streams: streams, batch: batch)
    }

    /// The position right after the last record: where a follower of "new lines only" starts.
    public var endSeq: UInt64 { state.nextSeq }
}
