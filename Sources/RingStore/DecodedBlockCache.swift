import Synchronization

/// The blocks decoded last, in all rings of the process: the pages of a download, a read of
/// the last lines and its seeks, and the readers of a busy ring's newest block decode each
/// block once, not once per read. Bounded by count (a block decodes to at most its staging
/// capacity, 256 KiB by default), not per ring: a node has a thousand rings.
final class DecodedBlockCache: Sendable {
    struct Key: Hashable {
        var ring: RingID
        var offset: UInt64
        /// The whole frame header, checksum included: a block written later at the same place
        /// (the suffix rolls over) is another key.
        var checksum: UInt32
        var seq: UInt64
        var length: UInt32
    }

    private struct Entries {
        var blocks: [Key: (block: DecodedBlock, used: UInt64)] = [:]
        var clock: UInt64 = 0
    }

    private let entries = Mutex(Entries())
    private let capacity: Int

    static let shared = DecodedBlockCache(capacity: 32)

    init(capacity: Int) { self.capacity = capacity }

    func block(_ key: Key) -> DecodedBlock? {
        entries.withLock { entries in
            guard let found = entries.blocks[key] else { return nil }
            entries.clock += 1
            entries.blocks[key]?.used = entries.clock
            return found.block
        }
    }

    /// Drops a ring's blocks: a purged ring's lines do not outlive its file, even in memory.
    func forget(ring: RingID) {
        entries.withLock { $0.blocks = $0.blocks.filter { $0.key.ring != ring } }
    }

    func insert(_ block: DecodedBlock, for key: Key) {
        entries.withLock { entries in
            if entries.blocks.count >= capacity, entries.blocks[key] == nil,
               let oldest = entries.blocks.min(by: { $0.value.used < $1.value.used })?.key {
                entries.blocks[oldest] = nil
            }
            entries.clock += 1
            entries.blocks[key] = (block, entries.clock)
        }
    }
}
