import AgentWire
import ClientConnections
import FairShare
import Foundation
import Hummingbird
import LogModel
import RingStore
import ServiceLifecycle

/// Serves one ring's records: as item lines (`AgentItem`), in the public API's shape, or as
/// `text/plain`; a bounded read, then, when following, whatever the writer appends, with
/// heartbeats while it is quiet. The client's pace drives the reads (each write waits for the
/// connection), so a slow follower costs memory for one page at most.
///
/// Reading and encoding a page is one slice on a blocking pool that tools take turns on: `reads`,
/// whose threads are niced, for everything but a follow's first page after each wake-up, which
/// goes to `follows`, whose threads are not: that page is what was just appended (a few lines,
/// as a tail usually sees), and a line's delay to its tail is what the service promises, so it
/// must not wait for the CPU behind a node's bulk work. A follow that fell behind (a slow
/// client, a flood) reads the rest of its backlog on `reads`, as a download would. The
/// request's task only waits for a slice and writes what it made. A read that finds nothing
/// to send for `probe` still writes (`Probe`), so that a client that went away is noticed and
/// its scan stops.
struct RingLogStream: Sendable {
    enum Format {
        case items, text

        /// `text/plain` when the client asks for it (and not for NDJSON too); items otherwise.
        init(accept: String?) {
            let accept = accept ?? ""
            self = accept.contains("text/plain") && !accept.contains("ndjson") ? .text : .items
        }
    }

    let ring: Ring
    let node: String
    let query: RingReadQuery
    let format: Format
    let heartbeat: Duration
    let metrics: AgentMetrics
    let reads: FairPool
    let follows: FairPool
    let metadata: RingMetadata
    let streams: Set<LogStream>?
    /// `grep` as bytes, once: it is matched against every record read.
    let grep: [UInt8]?
    /// The client's connection: a read stops between two slices once it has closed.
    let connection: ClientConnection?
    /// What every log item of a container's ring ends with (`AgentItem.writeLog`); nil for a
    /// ring of pushed lines or events, whose records are objects to take apart.
    let sourceMembers: [UInt8]?

    /// A page, and a slice on the pool: about a millisecond of reading and encoding. Measured
    /// (bench/crowded_reads.py): slices of 5,000 items let another tool's follow wait 14 ms at
    /// p99 behind 8 heavy readers, 1,000 items 6 ms; slices that went on while no other slice
    /// was queued made a third tool's download 4.2x slower among them, not 2.4x.
    static let pageItems = 1000
    /// The same for text written as it is read (`text(_:into:_:)`), about three times cheaper an
    /// item. Measured (bench/crowded_reads.py, one run each): 1,000 made a third tool's download
    /// among 8 heavy readers 3.9x its time alone through the gateway (its slices came round less
    /// often than its time alone allowed); 2,000 2.6x; 4,000 2.1x, but a follow through the
    /// gateway waited 8.3 ms at p99 (6.5 ms with 2,000), behind bigger bursts of the readers'
    /// bytes; 3,000 2.2x and 7.5 ms.
    static let textPageItems = 3000
    /// And at most this many bytes: 3,000 lines of up to 64 KiB would be a page of 192 MiB.
    static let textPageBytes = 1 << 20
    /// How long a read may go without writing before it writes a heartbeat (`Probe`).
    static let probe: Duration = .milliseconds(50)

    init(ring: Ring, node: String, query: RingReadQuery, format: Format, heartbeat: Duration, metrics: AgentMetrics, reads: FairPool,
         follows: FairPool, connection: ClientConnection? = nil) {
        self.connection = connection
        self.ring = ring
        self.node = node
        self.query = query
        self.format = format
        self.heartbeat = heartbeat
        self.metrics = metrics
        self.reads = reads
        self.follows = follows
        metadata = ring.metadata
        grep = query.grep.map { Array($0.utf8) }
        sourceMembers = metadata.kind == .custom || metadata.kind == .activity ? nil
            : AgentItem.sourceMembers(pod: metadata.pod ?? "", container: metadata.container ?? "", run: metadata.run, node: node)
        streams = query.stream.map { stream in
            switch stream {
            case .stdout: [.stdout]
            case .stderr: [.stderr]
            case .other: [.other]
            }
        }
    }

    /// The answer; `ticket` (a bounded read's place among its tool's) is given back when it ends.
    /// Where the read starts is found inside the answer, so that a client that goes away during
    /// a long search for it (the last N lines that match) is noticed there too.
    func response(holding ticket: ToolAdmission.Ticket? = nil) -> Response {
        let stream = self
        let contentType = format == .text ? "text/plain; charset=utf-8" : "application/x-ndjson"
        return Response(status: .ok, headers: [.contentType: contentType, .init("X-Accel-Buffering")!: "no",
                                               .init(AgentRoutes.ringEndHeader)!: String(ring.endSeq)],
                        body: ResponseBody { writer in
                            defer { ticket?.release() }
                            var probe = Probe()
                            let start = try await stream.startSeq(&probe, to: &writer)
                            var progress = Progress(position: start, budget: stream.query.limitBytes)
                            let done = try await stream.writeAvailable(&progress, &probe, firstOn: stream.reads, to: &writer)
                            if stream.query.follow, !done {
                                let shutdown = ShutdownSignal()
                                // A client gone ends the follow as a shutdown does: a text
                                // follow of a quiet ring writes nothing that could fail.
                                stream.connection?.onClose { shutdown.trigger() }
                                stream.metrics.followStarted()
                                defer { stream.metrics.followEnded() }
                                try await withGracefulShutdownHandler {
                                    try await stream.follow(progress, shutdown: shutdown, to: &writer)
                                } onGracefulShutdown: {
                                    shutdown.trigger()
                                }
                            }
                            try await writer.finish(nil)
                        })
    }

    /// When the answer last wrote: a read that has written nothing for `probe` writes a
    /// heartbeat item, since a write to a client that went away fails, and nothing else tells
    /// (the server does not cancel the handler). `text/plain` has no such item.
    struct Probe {
        var lastWrite = ContinuousClock.now
    }

    /// Between two slices of a read: stops it if its client went (a text search that matches
    /// nothing writes nothing that could fail), else writes a heartbeat item if it is quiet.
    private func keepAlive(_ probe: inout Probe, at position: UInt64, to writer: inout any ResponseBodyWriter) async throws {
        if connection?.isClosed == true { throw CancellationError() }
        guard format == .items, ContinuousClock.now - probe.lastWrite >= Self.probe else { return }
        try await writer.write(ByteBuffer(bytes: heartbeatLine(at: position)))
        probe.lastWrite = .now
    }

    private var tool: String { metadata.tool }

    /// Where reading starts: after a cursor, at a time, or the last N lines before the end of
    /// the window (`until`, `before`, or the ring's end), never before `since`.
    private func startSeq(_ probe: inout Probe, to writer: inout any ResponseBodyWriter) async throws -> UInt64 {
        if let after = query.after { return after }
        var start: UInt64 = 0
        if let since = query.since {
            start = try await reads.run(tool) { [ring] in try ring.read(ReadRequest(start: .time(since), maxItems: 0)).next }
        }
        guard let lines = query.lines else { return start }
        if query.grep != nil { return try await startOfLastMatching(lines, from: start, &probe, to: &writer) }
        let last = ReadRequest(start: .last(lines), until: query.until, before: query.before, maxItems: 0, streams: streams)
        return max(start, try await reads.run(tool) { [ring] in try ring.read(last).next })
    }

    /// With `grep`, the last N lines means the last N that match: found by reading the range
    /// (a ring is bounded, so this is too), a page a slice.
    private func startOfLastMatching(_ lines: Int, from start: UInt64, _ probe: inout Probe,
                                     to writer: inout any ResponseBodyWriter) async throws -> UInt64 {
        struct Scan: Sendable {
            var position: UInt64
            var found: [UInt64] = []
            var joiner = LineJoiner()
            var done = false
        }
        var scan = Scan(position: start)
        while !scan.done {
            try await keepAlive(&probe, at: start, to: &writer)
            scan = try await reads.run(tool) { [self, scan] in
                var scan = scan
                let page = try ring.read(window(from: scan.position, maxBytes: nil))
                var joined: [LineJoiner.Joined] = []
                scan.joiner.join(page.items, atEnd: page.end != .limit, into: &joined)
                for joined in joined {
                    if case let .record(record) = joined.item, matches(record.payload) { scan.found.append(record.seq) }
                }
                if scan.found.count > lines { scan.found.removeFirst(scan.found.count - lines) }
                scan.position = page.next
                scan.done = page.end != .limit
                return scan
            }
        }
        return lines == 0 ? scan.position : scan.found.first ?? scan.position
    }

    /// A read from `position` within the query's window and filters.
    private func window(from position: UInt64, maxBytes: Int?) -> ReadRequest {
        let (items, bytes) = textAsRead ? (Self.textPageItems, min(maxBytes ?? .max, Self.textPageBytes)) : (Self.pageItems, maxBytes)
        return ReadRequest(start: .seq(position), until: query.until, before: query.before, maxItems: items, maxBytes: bytes,
                           streams: streams)
    }

    private func matches(_ payload: [UInt8]) -> Bool {
        guard let grep else { return true }
        return payload.count >= grep.count && payload.indices.dropLast(grep.count - 1).contains { start in
            payload[start] == grep[0] && payload[start..<(start + grep.count)].elementsEqual(grep)
        }
    }

    /// What a response has handed out so far, across the reads of a follow.
    struct Progress: Sendable {
        var position: UInt64
        var budget: Int?
        var items = 0
    }

    /// Where a run of page reads stands: ahead of `progress.position` by the records of a line
    /// not yet complete.
    struct Reading: Sendable {
        var progress: Progress
        var joiner = LineJoiner()
        var readFrom: UInt64
        /// Set once nothing more should be written: true when nothing more should follow either.
        var done: Bool?
    }

    /// Writes everything there is now (within the limits), a page a slice: the first on `first`,
    /// the rest on `reads`. Returns true when nothing more should follow (`until` reached, a
    /// limit reached, or the ring finished).
    private func writeAvailable(_ progress: inout Progress, _ probe: inout Probe, firstOn first: FairPool,
                                to writer: inout any ResponseBodyWriter) async throws -> Bool {
        var reading = Reading(progress: progress, readFrom: progress.position)
        var pool = first
        while true {
            let (out, next) = try await pool.run(tool) { [self, reading] in
                var out = ByteBuffer()
                let next = try page(reading, into: &out)
                return (out, next)
            }
            pool = reads
            reading = next
            progress = reading.progress
            if out.readableBytes > 0 {
                try await writer.write(out)
                probe.lastWrite = .now
            }
            if let done = reading.done { return done }
            try await keepAlive(&probe, at: progress.position, to: &writer)
        }
    }

    /// Reads one page and encodes it onto `out`: one slice on the pool.
    private func page(_ reading: Reading, into out: inout ByteBuffer) throws -> Reading {
        var reading = reading
        let request = window(from: reading.readFrom, maxBytes: reading.progress.budget)
        let page: ReadResult
        var limited = false
        if textAsRead {
            page = try text(request, into: &out, &reading.progress)
        } else {
            page = try ring.read(request)
            limited = encodeLines(page, into: &out, &reading)
        }
        reading.readFrom = page.next
        if !limited, reading.joiner.isEmpty { reading.progress.position = page.next }
        if limited {
            reading.done = true
        } else if let budget = reading.progress.budget, budget <= 0 {
            reading.done = true
        } else {
            switch page.end {
            case .limit: if query.limitBytes != nil, page.items.isEmpty { reading.done = true }
            case .until: reading.done = true
            case .caughtUp: reading.done = page.finished
            }
        }
        return reading
    }

    /// Text with nothing to count, match or stamp: the records' bytes, joined or not, written as
    /// they are read, never kept (a download's pages are most of what the agent sends). A line's
    /// time goes before the line, not before each record of a line the runtime split: stamped
    /// text is joined first.
    private var textAsRead: Bool { format == .text && query.limit == nil && query.grep == nil && !query.timestamps }

    /// A page of `textAsRead` text, onto `out`.
    private func text(_ request: ReadRequest, into out: inout ByteBuffer, _ progress: inout Progress) throws -> ReadResult {
        var bytes = 0
        let page = try ring.read(request) { record in
            out.writeBytes(record.payload)
            if !record.flags.contains(.partial) { out.writeInteger(UInt8(ascii: "\n")) }
            bytes += record.payload.count
        }
        if let budget = progress.budget { progress.budget = budget - bytes }
        progress.items += page.items.count
        return page
    }

    /// Encodes a page's lines (joined, counted, matched) onto `out`; returns whether the
    /// query's `limit` stopped it. A read that stops mid-line hands out the line so far, marked
    /// partial.
    private func encodeLines(_ page: ReadResult, into out: inout ByteBuffer, _ reading: inout Reading) -> Bool {
        var joined: [LineJoiner.Joined] = []
        reading.joiner.join(page.items, atEnd: page.end != .limit, into: &joined)
        // Items are written here, then onto `out` at once; room for a line of about 300 bytes
        // each from the start, not grown (and copied) a dozen times a page.
        var items = JSONWriter(capacity: format == .items ? joined.count * 320 : 0)
        defer { out.writeBytes(items.bytes) }
        for item in joined {
            if let limit = query.limit, reading.progress.items >= limit { return true }
            if case let .record(record) = item.item {
                if !matches(record.payload) {
                    reading.progress.position = item.next
                    continue
                }
                if let limit = reading.progress.budget { reading.progress.budget = limit - record.payload.count }
            }
            encode(item, into: &out, items: &items)
            reading.progress.items += 1
            reading.progress.position = item.next
        }
        return false
    }

    private func heartbeatLine(at position: UInt64) -> [UInt8] {
        let now = NanoTime.now()
        return AgentItem.line(LogItem(type: .heartbeat, datetime: NanoTime.format(now)), seq: position, next: position, time: now)
    }

    private enum Wake { case changed, heartbeat, shutdown }

    private func follow(_ start: Progress, shutdown: ShutdownSignal, to writer: inout any ResponseBodyWriter) async throws {
        var progress = start
        while !Task.isCancelled, !ring.isDeleted {
            let version = ring.version
            var probe = Probe()
            if try await writeAvailable(&progress, &probe, firstOn: follows, to: &writer) { return }
            let wake = await withTaskGroup(of: Wake.self) { group in
                group.addTask { [ring] in
                    await ring.waitForChange(after: version)
                    return .changed
                }
                group.addTask { [heartbeat] in
                    try? await Task.sleep(for: heartbeat)
                    return .heartbeat
                }
                group.addTask {
                    await shutdown.wait()
                    return .shutdown
                }
                let first = await group.next() ?? .shutdown
                group.cancelAll()
                return first
            }
            // A follow ends cleanly only when nothing more will come (finished, until, budget);
            // a shutdown cuts it, so that the gateway retries instead of taking it for the end.
            if wake == .shutdown { throw CancellationError() }
            if wake == .heartbeat, !Task.isCancelled, format == .items {
                try await writer.write(ByteBuffer(bytes: heartbeatLine(at: progress.position)))
            }
        }
    }

    private func encode(_ joined: LineJoiner.Joined, into out: inout ByteBuffer, items: inout JSONWriter) {
        switch format {
        case .text:
            guard case let .record(record) = joined.item else { return }
            if query.timestamps {
                out.writeString(NanoTime.format(record.timestamp))
                out.writeInteger(UInt8(ascii: " "))
            }
            out.writeBytes(record.payload)
            if !record.flags.contains(.partial) { out.writeInteger(UInt8(ascii: "\n")) }
        case .items:
            if case let .record(record) = joined.item, let sourceMembers {
                AgentItem.writeLog(seq: record.seq, next: joined.next, time: record.timestamp, stream: record.stream.description,
                                   payload: record.payload, partial: record.flags.contains(.partial),
                                   truncated: record.flags.contains(.truncated), source: sourceMembers, to: &items)
                return
            }
            let (item, time) = logItem(joined)
            items.json(AgentItem.line(item, seq: joined.item.seq, next: joined.next, time: time))
        }
    }

    /// An item as the public API hands it out (all but its cursor, which the gateway makes),
    /// and the time it is shown at.
    func logItem(_ joined: LineJoiner.Joined) -> (LogItem, Int64?) {
        switch joined.item {
        case let .gap(gap):
            var item = LogItem(type: .gap, datetime: gap.timestamp.map(NanoTime.format), pod: metadata.pod ?? "",
                               container: metadata.container ?? "", run: metadata.run, node: node,
                               records: gap.records, bytes: gap.bytes, reason: gap.reason.description)
            item.message = item.gapDescription
            return (item, gap.timestamp)
        case let .record(record):
            var time = record.timestamp
            var line = LogItem.line(record.payload, datetime: NanoTime.format(record.timestamp), stream: record.stream.description)
            if metadata.kind == .custom || metadata.kind == .activity, var object = Self.object(record.payload) {
                // Pushed lines and events are stored as the JSON objects they came as.
                line = LogItem(type: .log, datetime: line.datetime, stream: line.stream)
                if case let .string(message)? = object.removeValue(forKey: "message") { line.message = message }
                // A pushed line's own time is the record's (see ToolRings.push); an event's is its
                // `time` (see ActivityEvent).
                object.removeValue(forKey: "datetime")
                if metadata.kind == .activity, case let .string(text)? = object.removeValue(forKey: ActivityEvent.Stored.time),
                   let event = NanoTime.parse(text) {
                    line.datetime = text
                    time = event
                }
                // An event's run is the run it is about, not the activity ring's.
                if case let .string(run)? = object.removeValue(forKey: ActivityEvent.Stored.run) { line.run = run }
                line.fields = object.isEmpty ? nil : object
            }
            line.partial = record.flags.contains(.partial) ? true : nil
            line.truncated = record.flags.contains(.truncated) ? true : nil
            line.pod = metadata.pod ?? ""
            line.container = metadata.container ?? ""
            line.run = line.run ?? metadata.run
            line.node = node
            return (line, time)
        }
    }

    private static func object(_ payload: [UInt8]) -> [String: JSONValue]? {
        try? JSONDecoder().decode([String: JSONValue].self, from: Data(payload))
    }
}
