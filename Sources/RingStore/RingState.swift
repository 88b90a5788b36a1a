/// Where everything is in a ring, as the checkpoint slots persist it after every append.
///
/// Sequence numbers `0..<prefixCount` live in the prefix region; `tailSeq..<blockedSeq` in the
/// suffix ring, from `tail` for `used` bytes (wrapping); `blockedSeq..<nextSeq` in the open
/// block's staging half (version 2; in version 1 `blockedSeq` is `nextSeq`). Between prefix
/// and suffix, `rolledRecords` records were overwritten.
struct RingState: Equatable, Sendable {
    var nextSeq: UInt64 = 0
    /// Records below this are in the regions (in blocks, in version 2); the rest are staged.
    var blockedSeq: UInt64 = 0
    /// Bytes of frames in the open block's staging half, and which half it is.
    var stagingEnd: UInt64 = 0
    var stagingHalf: UInt64 = 0
    /// Payload bytes of the open block's records: what its size counts.
    var openPayload: UInt64 = 0
    /// Bytes of frames in the prefix region.
    var prefixEnd: UInt64 = 0
    /// Set once a record did not fit the prefix: from then on everything goes to the suffix.
    var prefixSealed = false
    /// Sequence number of the first frame that went to the suffix (valid once sealed).
    var firstSuffixSeq: UInt64 = 0
    var tail: UInt64 = 0
    var head: UInt64 = 0
    var used: UInt64 = 0
    var tailSeq: UInt64 = 0
    var counters = RingCounters()
    var firstTimestamp: Int64 = 0
    var lastTimestamp: Int64 = 0
    var prefixLastTimestamp: Int64 = 0
    var finished = false
    var sourcePosition: [UInt8] = []

    var prefixCount: UInt64 { prefixSealed ? firstSuffixSeq : blockedSeq }
    var isEmpty: Bool { nextSeq == 0 }

    /// Sequence numbers a reader can get, in order; the gap between prefix and suffix rolled over.
    var visiblePrefix: Range<UInt64> { 0..<prefixCount }
    var visibleSuffix: Range<UInt64> { prefixSealed ? tailSeq..<blockedSeq : blockedSeq..<blockedSeq }
    var visibleStaging: Range<UInt64> { blockedSeq..<nextSeq }
    /// Everything after the prefix: the suffix and the open block, which follow each other.
    var visibleRecent: Range<UInt64> { visibleSuffix.lowerBound..<nextSeq }

    func encoded(_ version: RingFileVersion) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(RingState.fixedSize(version) + sourcePosition.count)
        for value in [nextSeq, prefixEnd, firstSuffixSeq, tail, head, used, tailSeq,
                      counters.rolledRecords, counters.rolledBytes, counters.droppedRecords, counters.droppedBytes,
                      counters.truncatedRecords, counters.recordsWritten, counters.bytesWritten] {
            bytes.appendLE(value)
        }
        bytes.appendLE(firstTimestamp)
        bytes.appendLE(lastTimestamp)
        bytes.appendLE(prefixLastTimestamp)
        bytes.appendLE(UInt32((prefixSealed ? 1 : 0) | (finished ? 2 : 0) | (stagingHalf == 1 ? 4 : 0)))
        bytes.appendLE(UInt32(sourcePosition.count))
        if version >= .two {
            bytes.appendLE(blockedSeq)
            bytes.appendLE(stagingEnd)
            bytes.appendLE(openPayload)
        }
        bytes.append(contentsOf: sourcePosition)
        return bytes
    }

    static func fixedSize(_ version: RingFileVersion) -> Int { version >= .two ? 168 : 144 }

    static func decode(_ bytes: [UInt8], version: RingFileVersion) -> RingState? {
        let fixedSize = fixedSize(version)
        guard bytes.count >= fixedSize else { return nil }
        var state = RingState()
        func u64(_ index: Int) -> UInt64 { bytes.loadLE(UInt64.self, at: index * 8) }
        state.nextSeq = u64(0)
        state.prefixEnd = u64(1)
        state.firstSuffixSeq = u64(2)
        state.tail = u64(3)
        state.head = u64(4)
        state.used = u64(5)
        state.tailSeq = u64(6)
        state.counters = RingCounters(
            rolledRecords: u64(7), rolledBytes: u64(8), droppedRecords: u64(9), droppedBytes: u64(10),
            truncatedRecords: u64(11), recordsWritten: u64(12), bytesWritten: u64(13)
        )
        state.firstTimestamp = bytes.loadLE(Int64.self, at: 112)
        state.lastTimestamp = bytes.loadLE(Int64.self, at: 120)
        state.prefixLastTimestamp = bytes.loadLE(Int64.self, at: 128)
        let flags = bytes.loadLE(UInt32.self, at: 136)
        state.prefixSealed = flags & 1 != 0
        state.finished = flags & 2 != 0
        state.stagingHalf = flags & 4 != 0 ? 1 : 0
        if version >= .two {
            state.blockedSeq = bytes.loadLE(UInt64.self, at: 144)
            state.stagingEnd = bytes.loadLE(UInt64.self, at: 152)
            state.openPayload = bytes.loadLE(UInt64.self, at: 160)
        } else {
            state.blockedSeq = state.nextSeq
        }
        let sourceLength = Int(bytes.loadLE(UInt32.self, at: 140))
        guard sourceLength <= RingFormat.maxSourcePosition, bytes.count == fixedSize + sourceLength else { return nil }
        state.sourcePosition = Array(bytes[fixedSize...])
        return state
    }

    /// Whether the numbers can describe a ring of these capacities; a checkpoint that passes its
    /// checksum but fails this was not written by us.
    func isConsistent(with superblock: Superblock) -> Bool {
        prefixEnd <= superblock.prefixCapacity && tail < superblock.suffixCapacity && head <= superblock.suffixCapacity
            && used <= superblock.suffixCapacity
            && tail % RingFormat.frameAlignment == 0 && head % RingFormat.frameAlignment == 0
            && prefixEnd % RingFormat.frameAlignment == 0
            && blockedSeq <= nextSeq && stagingEnd <= superblock.stagingCapacity && stagingEnd % RingFormat.frameAlignment == 0
            && openPayload <= stagingEnd
            && (blockedSeq == nextSeq) == (stagingEnd == 0)
            && (!prefixSealed || (firstSuffixSeq <= tailSeq && tailSeq <= blockedSeq))
            && (prefixSealed || (used == 0 && head == 0 && tail == 0))
    }
}

/// What a ring has taken in and let go of since it was created.
public struct RingCounters: Equatable, Sendable, Codable {
    /// Records (and their payload bytes) overwritten by the suffix ring.
    public var rolledRecords: UInt64 = 0
    public var rolledBytes: UInt64 = 0
    /// Source lines (and bytes) the writer reported as not kept, through drop records.
    public var droppedRecords: UInt64 = 0
    public var droppedBytes: UInt64 = 0
    public var truncatedRecords: UInt64 = 0
    /// Log records (and payload bytes) appended.
    public var recordsWritten: UInt64 = 0
    public var bytesWritten: UInt64 = 0

    public init(rolledRecords: UInt64 = 0, rolledBytes: UInt64 = 0, droppedRecords: UInt64 = 0, droppedBytes: UInt64 = 0,
                truncatedRecords: UInt64 = 0, recordsWritten: UInt64 = 0, bytesWritten: UInt64 = 0) {
        self.rolledRecords = rolledRecords
        self.rolledBytes = rolledBytes
        self.droppedRecords = droppedRecords
        self.droppedBytes = droppedBytes
        self.truncatedRecords = truncatedRecords
        self.recordsWritten = recordsWritten
        self.bytesWritten = bytesWritten
    }
}
