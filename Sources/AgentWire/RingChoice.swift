import LogModel

/// Which of a source's rings a read must ask: those its window overlaps and, for a read of the
/// last (or first) N lines, only as many as can hold them. A scheduled job keeps thousands of
/// runs; its last 500 lines are in the newest few, and asking every run for them cost one agent
/// call per run (20,160 calls for a job that ran every minute for 14 days).
///
/// Pure, and shared: the gateway chooses among the rings it indexes, the agent among the runs it
/// folded into history files (`AgentRoutes.folded`), by the same rule.
public struct RingChoice: Sendable, Hashable {
    /// The window: from `since` (inclusive) to `until` (exclusive), nanoseconds.
    public var since: Int64?
    public var until: Int64?
    /// The read's count of lines from its starting end; nil when it reads the whole window or
    /// filters lines (a filter makes any count of records a wrong bound).
    public var lines: Int?
    public var newestFirst: Bool

    public init(since: Int64? = nil, until: Int64? = nil, lines: Int? = nil, newestFirst: Bool = false) {
        self.since = since
        self.until = until
        self.lines = lines
        self.newestFirst = newestFirst
    }

    /// Whether a ring may hold something of the window, by its first and last times: a finished
    /// ring that ended before `since`, or a ring that began at or after `until`, holds nothing of
    /// it. A live ring is kept whatever its last time: a follow goes on in it.
    public func overlaps(_ ring: AgentRing) -> Bool {
        let times = Times(ring)
        if let since, ring.state == .finished, let last = times.last, last < since { return false }
        if let until, let first = times.first, first >= until { return false }
        return true
    }

    /// The rings that can hold the read, in the order given.
    ///
    /// With a count: the rings are taken from the read's starting end (newest last line first,
    /// or oldest first line first) until those wholly inside the window hold that many records;
    /// then every ring that reaches past the oldest (newest) line of those taken is added, since
    /// its lines may be merged between theirs. Whatever lies wholly beyond that bound is older
    /// (newer) than at least `lines` records already chosen, and cannot be read. Live rings are
    /// always kept.
    public func choose<Row>(_ rows: [Row], ring: (Row) -> AgentRing) -> [Row] {
        let inWindow = rows.filter { overlaps(ring($0)) }
        guard let lines else { return inWindow }
        let timed = inWindow.indices.map { (index: $0, times: Times(ring(inWindow[$0]))) }
        // From the starting end; rings without a time (nothing kept but a gap) are kept and count nothing.
        let ordered = timed.filter { $0.times.first != nil }.sorted {
            newestFirst ? $0.times.last! > $1.times.last! : $0.times.first! < $1.times.first!
        }
        var keep = Set(timed.filter { $0.times.first == nil || ring(inWindow[$0.index]).state == .live }.map(\.index))
        var held = 0
        // Once `lines` records are held: the oldest first time (newest last time) of the rings taken.
        var bound = newestFirst ? Int64.max : .min
        for (index, times) in ordered {
            if held >= lines {
                // In this order, once one ring lies wholly beyond the bound, every later one does.
                guard newestFirst ? times.last! >= bound : times.first! <= bound else { break }
                keep.insert(index)
                continue
            }
            keep.insert(index)
            bound = newestFirst ? min(bound, times.first!) : max(bound, times.last!)
            if inside(times) { held += Int(clamping: ring(inWindow[index]).keptRecords / Self.recordsPerLine) }
        }
        return inWindow.indices.filter(keep.contains).map { inWindow[$0] }
    }

    /// Records a line may be made of: the kubelet cuts a long line into records of 16 KiB, and
    /// the agent joins at most 256 KiB of them into one line. A ring's records are counted as
    /// this many fewer lines, so that a ring of long lines is never taken for more lines than it
    /// holds (a read of the last 500 lines then asks rings holding 8,000 records).
    public static let recordsPerLine: UInt64 = 16

    /// Whether a ring's records are all in the window, away from both of its ends: a ring that
    /// starts at the very time of a cursor may hold lines already handed out, and is not counted.
    private func inside(_ times: Times) -> Bool {
        guard let first = times.first, let last = times.last else { return false }
        return first > (since ?? .min) && (until.map { $0 > .min && last < $0 - 1 } ?? true)
    }

    /// A ring's first and last times, parsed once.
    private struct Times {
        var first: Int64?
        var last: Int64?

        init(_ ring: AgentRing) {
            first = ring.firstTime.flatMap(NanoTime.parse)
            last = ring.lastTime.flatMap(NanoTime.parse) ?? first
        }
    }
}

extension AgentRing {
    /// The log the ring keeps (what was written less what rolled over), not the file's size.
    public var keptBytes: UInt64 { bytesWritten - min(rolledBytes, bytesWritten) }

    /// Records the ring keeps, never more: its positions less those that rolled over, and what
    /// was written less what rolled over or was dropped, whichever is fewer (an undercount only
    /// makes `RingChoice` ask one ring more).
    public var keptRecords: UInt64 {
        min(endSeq - min(firstSeq, endSeq), recordsWritten - min(rolledRecords + droppedRecords, recordsWritten))
    }
}
