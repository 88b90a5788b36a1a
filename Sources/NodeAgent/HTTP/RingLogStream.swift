import AgentWire
import Foundation
import Hummingbird
import LogModel
import RingStore
import ServiceLifecycle

/// Serves one ring's records: as item lines (`AgentItem`), in the public API's shape, or as
/// `text/plain`; a bounded read, then, when following, whatever the writer appends, with
/// heartbeats while it is quiet. The client's pace drives the reads (each write waits for the
/// connection), so a slow follower costs memory for one page at most.
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
    let metadata: RingMetadata
    let streams: Set<LogStream>?
    /// `grep` as bytes, once: it is matched against every record read.
    let grep: [UInt8]?

    static let pageItems = 5000

    init(ring: Ring, node: String, query: RingReadQuery, format: Format, heartbeat: Duration, metrics: AgentMetrics) {
        self.ring = ring
        self.node = node
        self.query = query
        self.format = format
        self.heartbeat = heartbeat
        self.metrics = metrics
        metadata = ring.metadata
        grep = query.grep.map { Array($0.utf8) }
        streams = query.stream.map { stream in
            switch stream {
            case .stdout: [.stdout]
            case .stderr: [.stderr]
            case .other: [.other]
            }
        }
    }

    func response() throws -> Response {
        let start = try startSeq()
        let stream = self
        let contentType = format == .text ? "text/plain; charset=utf-8" : "application/x-ndjson"
        return Response(status: .ok, headers: [.contentType: contentType, .init("X-Accel-Buffering")!: "no"],
                        body: ResponseBody { writer in
                            var progress = Progress(position: start, budget: stream.query.limitBytes)
                            let done = try await stream.writeAvailable(&progress, to: &writer)
                            if stream.query.follow, !done {
                                let shutdown = ShutdownSignal()
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

    /// Where reading starts: after a cursor, at a time, or the last N lines before the end of
    /// the window (`until`, `before`, or the ring's end), never before `since`.
    private func startSeq() throws -> UInt64 {
        if let after = query.after { return after }
        if query.grep != nil, let lines = query.lines { return try startOfLastMatching(lines) }
        var start: UInt64 = 0
        if let since = query.since { start = try ring.read(ReadRequest(start: .time(since), maxItems: 0)).next }
        if let lines = query.lines {
            let last = ReadRequest(start: .last(lines), until: query.until, before: query.before, maxItems: 0, streams: streams)
            start = max(start, try ring.read(last).next)
        }
        return start
    }

    /// With `grep`, the last N lines means the last N that match: found by reading the range
    /// (a ring is bounded, so this is too).
    private func startOfLastMatching(_ lines: Int) throws -> UInt64 {
        var position: UInt64 = 0
        if let since = query.since { position = try ring.read(ReadRequest(start: .time(since), maxItems: 0)).next }
        var found: [UInt64] = []
        var joiner = LineJoiner()
        while true {
            let page = try ring.read(window(from: position, maxBytes: nil))
            var joined: [LineJoiner.Joined] = []
            joiner.join(page.items, atEnd: page.end != .limit, into: &joined)
            for joined in joined {
                if case let .record(record) = joined.item, matches(record.payload) { found.append(record.seq) }
            }
            if found.count > lines { found.removeFirst(found.count - lines) }
            position = page.next
            if page.end != .limit { break }
        }
        return lines == 0 ? position : found.first ?? position
    }

    /// A read from `position` within the query's window and filters.
    private func window(from position: UInt64, maxBytes: Int?) -> ReadRequest {
        ReadRequest(start: .seq(position), until: query.until, before: query.before, maxItems: Self.pageItems,
                    maxBytes: maxBytes, streams: streams)
    }

    private func matches(_ payload: [UInt8]) -> Bool {
        guard let grep else { return true }
        return payload.count >= grep.count && payload.indices.dropLast(grep.count - 1).contains { start in
            payload[start] == grep[0] && payload[start..<(start + grep.count)].elementsEqual(grep)
        }
    }

    /// What a response has handed out so far, across the reads of a follow.
    struct Progress {
        var position: UInt64
        var budget: Int?
        var items = 0
    }

    /// Writes everything there is now (within the limits). Returns true when nothing more
    /// should follow (`until` reached, a limit reached, or the ring finished).
    private func writeAvailable(_ progress: inout Progress, to writer: inout any ResponseBodyWriter) async throws -> Bool {
        var joiner = LineJoiner()
        // Ahead of `progress.position` by the records of a line not yet complete.
        var readFrom = progress.position
        while true {
            let page = try ring.read(window(from: readFrom, maxBytes: progress.budget))
            readFrom = page.next
            var out = ByteBuffer()
            var limited = false
            // A read that stops mid-line hands out the line so far, marked partial. Text is the
            // same bytes joined or not: it is joined only to count or match lines.
            var joined: [LineJoiner.Joined] = []
            if format == .text, query.limit == nil, query.grep == nil {
                joined = page.items.map { LineJoiner.Joined(item: $0, next: $0.nextSeq) }
            } else {
                joiner.join(page.items, atEnd: page.end != .limit, into: &joined)
            }
            for item in joined {
                if let limit = query.limit, progress.items >= limit {
                    limited = true
                    break
                }
                if case let .record(record) = item.item {
                    if !matches(record.payload) {
                        progress.position = item.next
                        continue
                    }
                    if let limit = progress.budget { progress.budget = limit - record.payload.count }
                }
                encode(item, into: &out)
                progress.items += 1
                progress.position = item.next
            }
            if !limited, joiner.isEmpty { progress.position = page.next }
            if out.readableBytes > 0 { try await writer.write(out) }
            if limited { return true }
            if let budget = progress.budget, budget <= 0 { return true }
            switch page.end {
            case .limit: if query.limitBytes != nil, page.items.isEmpty { return true }
            case .until: return true
            case .caughtUp: return page.finished
            }
        }
    }

    private enum Wake { case changed, heartbeat, shutdown }

    private func follow(_ start: Progress, shutdown: ShutdownSignal, to writer: inout any ResponseBodyWriter) async throws {
        var progress = start
        while !Task.isCancelled, !ring.isDeleted {
            let version = ring.version
            if try await writeAvailable(&progress, to: &writer) { return }
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
                let now = NanoTime.now()
                let line = AgentItem.line(LogItem(type: .heartbeat, datetime: NanoTime.format(now)),
                                          seq: progress.position, next: progress.position, time: now)
                try await writer.write(ByteBuffer(bytes: line))
            }
        }
    }

    private func encode(_ joined: LineJoiner.Joined, into out: inout ByteBuffer) {
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
            let (item, time) = logItem(joined)
            out.writeBytes(AgentItem.line(item, seq: joined.item.seq, next: joined.next, time: time))
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
                // `time` (see ToolRings.record).
                object.removeValue(forKey: "datetime")
                if metadata.kind == .activity, case let .string(text)? = object.removeValue(forKey: "time"), let event = NanoTime.parse(text) {
                    line.datetime = text
                    time = event
                }
                // An event's run is the run it is about, not the activity ring's.
                if case let .string(run)? = object.removeValue(forKey: "run") { line.run = run }
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
