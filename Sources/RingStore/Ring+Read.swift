/// What to read from a ring.
public struct ReadRequest: Sendable, Equatable {
    public enum Start: Sendable, Equatable {
        case beginning
        /// From this sequence number (a cursor's position) on.
        case seq(UInt64)
        /// The last N lines (that pass the stream filter) before the read's end bound (`before`,
        /// `until`, or the end of the ring). A line is a run of records of which all but the last
        /// are partial: the runtime splits long lines, and a user counts lines.
        case last(Int)
        /// The first record with a timestamp at or after this (ns since the epoch).
        case time(Int64)
    }

    public var start: Start
    /// Stop before the first record at or after this time (exclusive bound).
    public var until: Int64?
    /// Stop before this sequence number (exclusive bound): where a backward page left off.
    public var before: UInt64?
    /// At most this many items.
    public var maxItems: Int?
    /// At most this many payload bytes (at least one record is always returned).
    public var maxBytes: Int?
    /// Only records of these streams; nil for all. Gaps are always returned.
    public var streams: Set<LogStream>?

    public init(start: Start = .beginning, until: Int64? = nil, before: UInt64? = nil, maxItems: Int? = nil, maxBytes: Int? = nil,
                streams: Set<LogStream>? = nil) {
        self.start = start
        self.until = until
        self.before = before
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.streams = streams
    }
}

public struct ReadResult: Sendable, Equatable {
    public enum End: Sendable, Equatable {
        /// Everything written so far was read.
        case caughtUp
        /// A limit of the request stopped the read; more is there.
        case limit
        /// The `until` or `before` bound was reached; nothing later will match.
        case until
    }

    public var items: [ReadItem]
    /// Where to continue: the sequence number after the last item read or skipped.
    public var next: UInt64
    public var end: End
    /// The ring is finished and this read reached its end: nothing more will ever come.
    public var finished: Bool

    public var records: [LogRecord] {
        items.compactMap { if case let .record(record) = $0 { record } else { nil } }
    }

    public var gaps: [Gap] {
        items.compactMap { if case let .gap(gap) = $0 { gap } else { nil } }
    }
}

/// A record as it is read, its payload lent for the call only (see `Ring.read(_:lending:)`).
public struct LentRecord {
    public let seq: UInt64
    public let timestamp: Int64
    public let stream: LogStream
    public let flags: RecordFlags
    public let payload: UnsafeRawBufferPointer
}

extension Ring {
    /// Reads records and gaps in order. Every record returned passed its checksum; damage and
    /// records overwritten while reading show as gaps at their place.
    public func read(_ request: ReadRequest) throws -> ReadResult {
        try read(request, lend: nil)
    }

    /// The same read, each record's payload lent to `take` as it is read (checked, in order)
    /// instead of kept: the result's records have empty payloads. A reader that only copies
    /// payloads onward (a text download) is spared an allocation and a copy a record.
    public func read(_ request: ReadRequest, lending take: (LentRecord) -> Void) throws -> ReadResult {
        try withoutActuallyEscaping(take) { try read(request, lend: $0) }
    }

    private func read(_ request: ReadRequest, lend: ((LentRecord) -> Void)?) throws -> ReadResult {
        guard !isDeleted else { throw RingStoreError.unknownRing(id.description) }
        var window = FrameWindow(file: file, superblock: superblock)
        let snapshot = state
        let start: UInt64
        switch request.start {
        case .beginning: start = 0
        case let .seq(seq): start = seq
        case let .time(time): start = try lineStart(atOrAfter: seek(time: time, in: snapshot, window: &window), in: snapshot, window: &window)
        case let .last(count):
            var end = min(request.before ?? snapshot.nextSeq, snapshot.nextSeq)
            if let until = request.until {
                end = min(end, try lineStart(atOrAfter: seek(time: until, in: snapshot, window: &window), in: snapshot, window: &window))
            }
            start = try startOfLast(count, streams: request.streams, before: end, in: snapshot, window: &window)
        }
        var collector = Collector(request: request, next: start, keepPayloads: lend == nil, lend: lend)
        let latest = try readForward(&collector, from: snapshot, window: &window)
        let end = collector.end ?? .caughtUp
        return ReadResult(items: collector.items, next: collector.next, end: end,
                          finished: end == .caughtUp && latest.finished && collector.next >= latest.nextSeq)
    }

    /// Reads from `collector.next` until it stops or has everything in `snapshot`; returns the
    /// newest state it looked at. The writer may overtake a reader that is behind (the suffix
    /// tail rolls over, a staging half is reused after two seals): the reader then reads the
    /// state again and goes on from where the records are now.
    private func readForward(_ collector: inout Collector, from snapshot: RingState, window: inout FrameWindow) throws -> RingState {
        var snapshot = snapshot
        while collector.end == nil {
            if collector.next < snapshot.prefixCount {
                let region = Region.prefix(of: superblock, snapshot)
                guard try walk(region, &collector, window: &window, overtaken: { _ in false }) else { break }
            }
            var overtakenBy: RingState?
            if snapshot.prefixSealed, collector.next < snapshot.blockedSeq {
                if collector.next < snapshot.tailSeq {
                    let exact = collector.next == snapshot.firstSuffixSeq
                    let gap = Gap(seq: collector.next, seqCount: snapshot.tailSeq - collector.next,
                                  records: snapshot.tailSeq - collector.next,
                                  bytes: exact ? snapshot.counters.rolledBytes : nil, reason: .rolledOver, timestamp: nil)
                    guard collector.take(gap) else { break }
                }
                let done = try walk(Region.suffix(of: superblock, snapshot), &collector, window: &window, overtaken: { expected in
                    let latest = self.state
                    guard expected < latest.tailSeq else { return false }
                    overtakenBy = latest
                    return true
                })
                if let latest = overtakenBy {
                    snapshot = latest
                    continue
                }
                guard done else { break }
            }
            guard collector.next < snapshot.nextSeq else { break }
            _ = try walk(Region.staging(of: superblock, snapshot), &collector, window: &window, overtaken: { expected in
                let latest = self.state
                guard expected < latest.blockedSeq else { return false }
                overtakenBy = latest
                return true
            })
            guard let latest = overtakenBy else { break }
            snapshot = latest
        }
        return snapshot
    }

    /// Hands the region's records from `collector.next` to the collector: those of record
    /// frames, and of blocks decoded (a block wholly before `next` is stepped over on its
    /// header). Returns false when the collector stopped or `overtaken()` says the writer has
    /// overwritten what is next.
    private func walk(_ region: Region, _ collector: inout Collector, window: inout FrameWindow,
                      overtaken: (UInt64) -> Bool) throws -> Bool {
        let target = collector.next
        var walker = RegionWalker(region, logical: target <= region.seqs.lowerBound ? 0
            : try locate(in: region, before: { $0.seq < target }))
        while collector.next < region.seqs.upperBound {
            let frame: FrameWindow.Frame
            switch try walker.step(&window) {
            case let .frame(found): frame = found
            case .end, .damaged:
                if overtaken(collector.next) { return false }
                let expected = collector.next
                guard let found = try walker.resync(&window, accept: { $0 >= expected }) else {
                    return collector.take(corruptGap(from: expected, to: region.seqs.upperBound))
                }
                frame = found
            }
            guard let (count, _) = window.records(in: frame) else { continue }
            let first = frame.header.seq
            if first + count <= collector.next { continue }
            if first > collector.next {
                if overtaken(collector.next) { return false }
                guard collector.take(corruptGap(from: collector.next, to: first)) else { return false }
            }
            guard frame.header.type == .block else {
                guard window.withPayload(of: frame, { collector.take(RecordView(frame.header, payload: $0)) }) else { return false }
                continue
            }
            // A block that does not decode is damage: the next frame (or the region's end) says
            // where its records end, not its header, which is what failed.
            guard let block = window.decode(frame) else { continue }
            for index in Int(collector.next - first)..<block.entries.count {
                guard block.withRecord(index, { collector.take($0) }) else { return false }
            }
        }
        return true
    }

    private func corruptGap(from: UInt64, to: UInt64) -> Gap {
        Gap(seq: from, seqCount: to - from, records: to - from, bytes: nil, reason: .corrupt, timestamp: nil)
    }

    /// Binary search over a region for a frame boundary (as a logical offset) whose frame is
    /// `before` the target, as close to it as a 64 KiB window: O(log n) probes, each finding
    /// the first frame after an arbitrary offset.
    func locate(in region: Region, before: (FrameHeader) -> Bool) throws -> UInt64 {
        var window = FrameWindow(file: file, superblock: superblock, chunk: FrameWindow.probeChunk)
        var low: UInt64 = 0
        var high = region.used
        while high - low > UInt64(FrameWindow.walkChunk) {
            let middle = (low + high) / 2 / RingFormat.frameAlignment * RingFormat.frameAlignment
            var probe = RegionWalker(region, logical: middle)
            if let frame = try probe.resync(&window, maxScan: high - middle, accept: { _ in true }) {
                let position = region.logical(ofAbsolute: frame.offset)
                if position < high, position > low, before(frame.header) {
                    low = position
                    continue
                }
            }
            high = middle
        }
        return low
    }

    /// The sequence number of the first record at or after `time`. A search that meets a frame
    /// it cannot read (the writer reused a staging half or rolled the suffix over under it, or
    /// damage) looks again in the newest state; if it still cannot, it starts where the region
    /// it searched starts, so that the reader sees the gap rather than skipping records.
    private func seek(time: Int64, in snapshot: RingState, window: inout FrameWindow) throws -> UInt64 {
        var state = snapshot
        for _ in 0..<3 {
            if let seq = try seek(time: time, in: state, window: &window) { return seq }
            state = self.state
        }
        return try seek(time: time, in: state, window: &window, orRegionStart: true)!
    }

    private func seek(time: Int64, in state: RingState, window: inout FrameWindow, orRegionStart: Bool = false) throws -> UInt64? {
        // Before the first record or after the last, no search: a window that covers the whole
        // ring (a read of the last lines of the last hour) costs nothing to place.
        if state.isEmpty || time > state.lastTimestamp { return state.nextSeq }
        if time <= state.firstTimestamp, state.prefixCount > 0 { return 0 }
        func search(_ region: Region) throws -> UInt64? {
            try firstSeq(atOrAfter: time, in: region, window: &window) ?? (orRegionStart ? region.seqs.lowerBound : nil)
        }
        if state.prefixCount > 0, state.prefixLastTimestamp >= time { return try search(Region.prefix(of: superblock, state)) }
        let suffix = Region.suffix(of: superblock, state)
        guard let seq = try search(suffix) else { return nil }
        // The time fell among records that rolled over: start at the gap, so the reader sees it.
        if !suffix.seqs.isEmpty, seq == state.tailSeq, state.tailSeq > state.firstSuffixSeq { return state.firstSuffixSeq }
        if seq < suffix.seqs.upperBound { return seq }
        return try search(Region.staging(of: superblock, state))
    }

    /// The first record at or after `time` in the region (its end if none is); nil if a frame
    /// on the way could not be read.
    private func firstSeq(atOrAfter time: Int64, in region: Region, window: inout FrameWindow) throws -> UInt64? {
        guard !region.seqs.isEmpty else { return region.seqs.upperBound }
        var walker = RegionWalker(region, logical: try locate(in: region, before: { $0.timestamp < time }))
        while true {
            let frame: FrameWindow.Frame
            switch try walker.step(&window) {
            case .end: return region.seqs.upperBound
            case .damaged: return nil
            case let .frame(found): frame = found
            }
            guard region.seqs.contains(frame.header.seq) else { continue }
            guard frame.header.type == .block else {
                if frame.header.timestamp >= time { return frame.header.seq }
                continue
            }
            if let header = window.blockHeader(of: frame), header.lastTimestamp < time { continue }
            // A block that does not decode is started at, and read as the gap it is.
            guard let block = window.decode(frame) else { return frame.header.seq }
            if let index = block.entries.firstIndex(where: { $0.timestamp >= time }) { return block.firstSeq + UInt64(index) }
        }
    }

    /// Where a read of the last `count` lines (of `streams`) before sequence number `end` starts.
    private func startOfLast(_ count: Int, streams: Set<LogStream>?, before end: UInt64, in state: RingState,
                             window: inout FrameWindow) throws -> UInt64 {
        guard count > 0 else { return end }
        let suffix = state.visibleRecent.clamped(to: state.visibleRecent.lowerBound..<max(state.visibleRecent.lowerBound, end))
        let prefix = state.visiblePrefix.clamped(to: 0..<end)
        // Counting back over the visible sequence numbers below `end`: exact when every record
        // is a line of its own and passes the filter; widened until it holds `count` lines.
        func seqBack(_ n: UInt64) -> UInt64 {
            if UInt64(suffix.count) >= n { return suffix.upperBound - n }
            return prefix.upperBound - Swift.min(UInt64(prefix.count), n - UInt64(suffix.count))
        }
        let visible = UInt64(suffix.count + prefix.count)
        // One line more than asked: the first record read may continue a line begun before it.
        var span = UInt64(count) + 1
        while true {
            let start = seqBack(span)
            var counter = Collector(request: ReadRequest(before: end, streams: streams), next: start, keepPayloads: false)
            _ = try readForward(&counter, from: state, window: &window)
            var lineStarts: [UInt64] = []
            var previous: LogRecord?
            for item in counter.items {
                guard case let .record(record) = item else {
                    previous = nil
                    continue
                }
                if !Self.continues(previous, stream: record.stream) { lineStarts.append(record.seq) }
                previous = record
            }
            if lineStarts.count > count { return lineStarts[lineStarts.count - count] }
            if start == 0, lineStarts.count == count { return lineStarts[0] }
            if start == 0 || span >= visible { return start }
            span = Swift.min(span * 4, visible)
        }
    }
}

extension Ring {
    /// Whether a record of `stream` continues the line of `previous`: the runtime split a line
    /// (CRI `P` … `F`) into consecutive records of one stream, all but the last partial.
    public static func continues(_ previous: LogRecord?, stream: LogStream) -> Bool {
        previous.map { $0.flags.contains(.partial) && $0.stream == stream } ?? false
    }

    /// The first line start at or after `seq`. A line has the time of its first record, so a
    /// record that continues a line begun before a time bound belongs on that line's side of it.
    func lineStart(atOrAfter seq: UInt64, in state: RingState, window: inout FrameWindow) throws -> UInt64 {
        guard seq > 0, seq < state.nextSeq else { return seq }
        // Mostly the record before is a line's last, and two records tell; a line the runtime
        // split takes a few more; a chain that never ends is cut at a thousand.
        var collector = Collector(request: ReadRequest(maxItems: 2), next: seq - 1, keepPayloads: false)
        var previous: LogRecord?
        for more in [2, 62, 960] {
            collector.request.maxItems = more
            collector.items.removeAll(keepingCapacity: true)
            collector.end = nil
            _ = try readForward(&collector, from: state, window: &window)
            for item in collector.items {
                // A gap ends a line.
                if case let .gap(gap) = item { return max(seq, gap.seq) }
                guard case let .record(record) = item else { continue }
                if record.seq >= seq, !Self.continues(previous, stream: record.stream) { return record.seq }
                previous = record
            }
            if collector.end != .limit { break }
        }
        return max(seq, collector.next)
    }
}

/// Gathers a read's items and decides when to stop.
struct Collector {
    var request: ReadRequest
    var next: UInt64
    var keepPayloads = true
    /// Given each record's payload, when it is not kept.
    var lend: ((LentRecord) -> Void)?
    var items: [ReadItem] = []
    var bytes = 0
    var end: ReadResult.End?
    /// The last record taken, while it may be continued: `until` cuts between lines only.
    var lastRecord: LogRecord?

    private mutating func room(for payloadBytes: Int, at timestamp: Int64?, seq: UInt64, continuesLine: Bool = false) -> Bool {
        if let before = request.before, seq >= before {
            end = .until
            return false
        }
        if let until = request.until, let timestamp, timestamp >= until, !continuesLine {
            end = .until
            return false
        }
        if let maxItems = request.maxItems, items.count >= maxItems {
            end = .limit
            return false
        }
        if let maxBytes = request.maxBytes, !items.isEmpty, bytes + payloadBytes > maxBytes {
            end = .limit
            return false
        }
        return true
    }

    mutating func take(_ gap: Gap) -> Bool {
        guard room(for: 0, at: gap.timestamp, seq: gap.seq) else { return false }
        lastRecord = nil
        items.append(.gap(gap))
        next = gap.seq + gap.seqCount
        return true
    }

    mutating func take(_ record: RecordView) -> Bool {
        switch record.kind {
        case .drop:
            let note = DropNote(decoding: record.payload) ?? DropNote(records: 0, bytes: 0, reason: "dropped")
            return take(Gap(seq: record.seq, seqCount: 1, records: note.records, bytes: note.bytes,
                            reason: .dropped(note.reason), timestamp: record.timestamp))
        case .damaged:
            // Records lost before their block was sealed: one gap for a run of them.
            if let before = request.before, record.seq >= before {
                end = .until
                return false
            }
            if case var .gap(gap) = items.last, gap.reason == .corrupt, gap.seq + gap.seqCount == record.seq {
                gap.seqCount += 1
                gap.records += 1
                items[items.count - 1] = .gap(gap)
                next = record.seq + 1
                return true
            }
            return take(Gap(seq: record.seq, seqCount: 1, records: 1, bytes: nil, reason: .corrupt, timestamp: record.timestamp))
        case .log:
            break
        }
        let stream = LogStream(rawValue: record.stream) ?? .other
        if let streams = request.streams, !streams.contains(stream) {
            if let before = request.before, record.seq >= before {
                end = .until
                return false
            }
            if let until = request.until, record.timestamp >= until {
                end = .until
                return false
            }
            next = record.seq + 1
            return true
        }
        guard room(for: record.payload.count, at: record.timestamp, seq: record.seq,
                   continuesLine: Ring.continues(lastRecord, stream: stream)) else { return false }
        let kept = LogRecord(seq: record.seq, timestamp: record.timestamp, stream: stream,
                             flags: RecordFlags(rawValue: record.flags), payload: keepPayloads ? Array(record.payload) : [])
        lend?(LentRecord(seq: kept.seq, timestamp: kept.timestamp, stream: stream, flags: kept.flags, payload: record.payload))
        items.append(.record(kept))
        lastRecord = kept
        bytes += record.payload.count
        next = record.seq + 1
        return true
    }
}

extension RecordView {
    /// The record of a log or drop frame.
    init(_ header: FrameHeader, payload: UnsafeRawBufferPointer) {
        self.init(seq: header.seq, timestamp: header.timestamp, kind: header.type == .drop ? .drop : .log,
                  stream: header.stream, flags: header.flags, payload: payload)
    }
}
