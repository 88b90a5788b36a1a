import AgentWire
import LogModel
import ServiceLifecycle

/// The streamed answer of one read (text, NDJSON, SSE): warnings first, then what is there, a
/// page at a time, then (following) what comes. It writes into a bounded stream a few chunks
/// ahead of its client, so a slow client holds back its own read and no other; pages are
/// merged and encoded on the merge pool (`MergedLogs.page`).
struct LogStreamResponder: Sendable {
    let merged: MergedLogs
    let index: AgentIndex
    let rings: [(AgentEndpoint, AgentRing)]
    let selection: LogSelection
    let request: LogRequest
    /// Keeps a quiet follow open with single spaces instead of heartbeat items, for clients
    /// that parse every line.
    let keepAlive: Bool
    let out: BoundedStream<ArraySlice<UInt8>>.Sender
    private var encoder: StreamEncoder
    /// Whether the last thing sent was a keep-alive space: the stream then ends only after an
    /// entry, since a client that parses every line would choke on the space.
    private var spaced = false
    /// Notes of the agents (one unreachable), said before the items of the page they concern, each once.
    private var said = Set<String>()

    /// The last lines a follow starts with, at most.
    static let followLines = 100_000
    /// The size of what is written at once: the bounded stream counts chunks, not bytes.
    static let chunkBytes = 64 * 1024

    init(merged: MergedLogs, index: AgentIndex, rings: [(AgentEndpoint, AgentRing)], selection: LogSelection, request: LogRequest,
         format: LogParameters.Format, keepAlive: Bool, out: BoundedStream<ArraySlice<UInt8>>.Sender) {
        self.merged = merged
        self.index = index
        self.rings = rings
        self.selection = selection
        self.request = request
        self.keepAlive = keepAlive
        self.out = out
        encoder = StreamEncoder(format, limitBytes: request.limitBytes)
    }

    mutating func respond(warnings: [String]) async {
        for warning in warnings {
            guard await say(warning) else { return }
        }
        if request.follow { await follow() } else { await read() }
    }

    /// The whole window, a page at a time from where the last one stopped: a read of any size
    /// holds one page here. Text is the lines as a file holds them, oldest first, whichever
    /// end they were counted from.
    private mutating func read() async {
        var next = request
        if encoder.format == .text, request.newestFirst {
            if request.lines == nil, request.after == nil {
                next.newestFirst = false  // the whole window: the same lines, read forward
            } else if let forward = await oldestFirst() {
                next = forward
            } else {
                return out.finish()
            }
        }
        if let (agent, ring) = oneRingRead() { return await relay(agent, ring) }
        var owed = next.lines ?? .max
        while owed > 0, !encoder.spent {
            guard let page = await sendPage(next, limit: min(owed, MergedLogs.pageItems)) else { return }
            owed -= page.entries.count
            guard page.more, let mark = page.mark else { break }
            next.after = CompositeCursor(mark: mark)
        }
        out.finish()
    }

    /// The one ring an NDJSON read needs, read forward with nothing to filter, label or count
    /// in bytes: then its items need no pages and no merge (`relay`).
    private func oneRingRead() -> (AgentEndpoint, AgentRing)? {
        guard encoder.format == .ndjson, !request.newestFirst, request.limitBytes == nil, !selection.isToolWide else { return nil }
        let needed = request.choice(filtered: false).choose(rings) { $0.1 }
        return needed.count == 1 ? needed[0] : nil
    }

    /// One ring's items as the agent sends them, each chunk of its answer encoded as it comes
    /// (a slice of the merge pool, in turns by tool, as a page is), with the cursors a client
    /// resumes from (`StreamEncoder`'s rule: every thousandth and the last of each write). A
    /// download of one job is this: a page a request and a merge cost the gateway half again
    /// the agent's time.
    private mutating func relay(_ agent: AgentEndpoint, _ ring: AgentRing) async {
        let query = request.ringQuery(from: request.after?.position(of: ring.id), count: request.lines)
        // An item without a time of its own (a gap of lines that rolled over) is shown at the
        // time of the one before it, or where the read starts, or at the ring's first line.
        let start = request.after?.mark?.time ?? request.since ?? ring.firstTime.flatMap(NanoTime.parse)
        var place = RelayPlace(ring: ring.id, time: start ?? NanoTime.now())
        do {
            for try await items in merged.client.itemChunks(agent, ring: ring.id, query) where !items.isEmpty {
                let (bytes, after) = await merged.pool.run(selection.tool) { [place] in
                    var place = place
                    return (place.encode(items), place)
                }
                place = after
                guard await out.send(bytes[...]) else { return }
                spaced = false
            }
        } catch is CancellationError {
            return out.finish(throwing: CancellationError())
        } catch {
            guard await say("\(ring.node) did not finish the read: \(error)") else { return }
        }
        out.finish()
    }

    /// A page of what is there, then each ring from its position after it; one that asked for
    /// its last lines reads them newest first, shown oldest first, at most `followLines` of
    /// them (held here at once).
    private mutating func follow() async {
        var first = request
        var limit = MergedLogs.pageItems
        if let lines = request.lines, request.after == nil {
            first.newestFirst = true
            limit = min(lines, Self.followLines)
            if lines > limit, !(await say("a follow starts with at most its last \(limit) lines")) { return }
        }
        guard let page = await sendPage(first, limit: limit, forwardMarks: true) else { return }
        guard !encoder.spent else { return out.finish() }
        // A follow of what has all ended (a finished one-off job's newest run) waits for
        // what comes next: said once, so that the wait does not look like a hang.
        if !selection.endsWhenFinished, request.until == nil, !rings.isEmpty, rings.allSatisfy({ $0.1.state == .finished }) {
            guard await say("\(selection.description) has nothing running now; waiting for what comes next", level: "info") else { return }
        }
        // A follow with an end (`until`, a given run) ends when every ring it follows has.
        let (index, selection) = (index, selection)
        let live = merged.follow(rings, from: page.positions, request, endsWhenFinished: selection.endsWhenFinished || request.until != nil) {
            selection.choose(index.rings(tool: selection.tool, where: selection.mayChoose).rings)
        }
        // A follow's clean end says "nothing more will come" (a finished run). Anything else,
        // this gateway's shutdown included, cuts the connection, so that clients reconnect, to
        // another replica, and resume from their cursor.
        let out = out
        await withGracefulShutdownHandler {
            do {
                for try await entry in live {
                    guard await send(entry) else { return }
                    if encoder.spent { break }  // `limit_bytes` reached: a clean end
                }
                if Task.isCancelled { throw CancellationError() }
                if spaced, !(await say("the stream ends: nothing more will come")) { return }
                out.finish()
            } catch {
                out.finish(throwing: error)
            }
        } onGracefulShutdown: {
            out.finish(throwing: CancellationError())
        }
    }

    /// A page merged and encoded in one slice of the merge pool, then sent, its notes first;
    /// nil when the client went.
    private mutating func sendPage(_ request: LogRequest, limit: Int, forwardMarks: Bool? = nil) async -> MergedPage? {
        let encoder = encoder
        let (page, bytes, after) = await merged.page(rings, request, limit: limit, forwardMarks: forwardMarks, of: selection) { page in
            var encoder = encoder
            let bytes = encoder.encode(page.entries)
            return (page, bytes, encoder)
        }
        self.encoder = after
        for note in page.warnings where said.insert(note).inserted {
            guard await say(note) else { return nil }
        }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Self.chunkBytes)
            guard await out.send(bytes[start..<end]) else { return nil }
            start = end
        }
        if !bytes.isEmpty { spaced = false }
        return page
    }

    private mutating func send(_ entry: ReadEntry) async -> Bool {
        if keepAlive, entry.type == .heartbeat {
            spaced = true
            return await out.send([UInt8(ascii: " ")])
        }
        guard let encoded = encoder.encode(entry) else { return true }
        spaced = false
        return await out.send(ArraySlice(encoded))
    }

    private mutating func say(_ text: String, level: String = "warning") async -> Bool {
        await send(.message(text, level: level))
    }

    /// The read turned oldest first, as text shows it: where its lines start is found by
    /// reading newest first, a page at a time, keeping only where each page stopped; then
    /// exactly as many are read forward from the oldest of them. Nil when there are none.
    private func oldestFirst() async -> LogRequest? {
        var backward = request
        var owed = request.lines ?? .max
        var found = 0
        var oldest: CompositeCursor.Mark?
        while owed > 0 {
            let page = await merged.page(rings, backward, limit: min(owed, MergedLogs.pageItems), of: selection) {
                (count: $0.entries.count, mark: $0.mark, more: $0.more)
            }
            owed -= page.count
            found += page.count
            oldest = page.mark ?? oldest
            guard page.more, let mark = page.mark else { break }
            backward.after = CompositeCursor(mark: mark)
        }
        guard found > 0, let oldest else { return nil }
        // A newest-first mark stands at its item's position: read forward, it includes it.
        var forward = request
        forward.newestFirst = false
        forward.lines = found
        forward.after = CompositeCursor(mark: .init(time: oldest.time, ring: oldest.ring, seq: oldest.seq, newestFirst: false))
        return forward
    }
}

/// Where a relay of one ring stands: the time of its last item and how many it wrote.
struct RelayPlace: Sendable {
    let ring: String
    var time: Int64
    var written = 0

    /// A chunk of the agent's items as NDJSON.
    mutating func encode(_ items: [AgentItem]) -> [UInt8] {
        var writer = JSONWriter(capacity: items.count * 320)
        for (index, item) in items.enumerated() {
            time = item.time ?? time
            written += 1
            var entry = ReadEntry(item)
            if item.time == nil { entry.datetime = NanoTime.format(time) }
            let withCursor = StreamEncoder.carriesCursor(written, last: index == items.count - 1)
            if withCursor { entry.cursor = CompositeCursor(mark: .init(time: time, ring: ring, seq: item.next, newestFirst: false)) }
            _ = LogEncoding.write(entry, as: .ndjson, withCursor: withCursor, to: &writer)
        }
        return writer.bytes
    }
}
