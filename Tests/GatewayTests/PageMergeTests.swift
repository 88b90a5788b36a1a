import AgentWire
import LogModel
import Testing
@testable import Gateway

/// The merge of several rings' items into pages, and the marks a client resumes from: pure
/// (`PageMerge`), with a ring's answer to a query made here as the agent makes it (a window, a
/// position, a count from one end).
@Suite(.timeLimit(.minutes(1))) struct PageMergeTests {
    /// A ring of items at these times (nil: a gap of lines that rolled over), seq 10, 20, ...
    struct FakeRing {
        let ring: AgentRing
        let items: [AgentItem]

        init(_ id: String, times: [Int64?]) {
            ring = AgentRing(id: id, node: "node-1", tool: "t", kind: .continuous, name: "job", run: id, segment: 0,
                             namespace: nil, pod: nil, container: nil, image: nil, startedAt: nil, finishedAt: nil, exitCode: nil,
                             reason: nil, state: .live, diskBytes: 0, prefixCapacity: 0, suffixCapacity: 0, recordsWritten: 0,
                             bytesWritten: 0, rolledRecords: 0, rolledBytes: 0, droppedRecords: 0, droppedBytes: 0,
                             truncatedRecords: 0, firstSeq: 10, endSeq: UInt64(10 * (times.count + 1)), firstTime: nil, lastTime: nil)
            items = times.enumerated().map { index, time in
                let seq = UInt64(10 * (index + 1))
                let item = LogItem(type: time == nil ? .gap : .log, datetime: time.map(NanoTime.format), message: "\(id)\(index)")
                return try! AgentItem(line: Array(AgentItem.line(item, seq: seq, next: seq + 10, time: time).dropLast()))
            }
        }

        /// What the agent answers to `query`: its window from the position, `count` from one end.
        func answer(_ request: LogRequest, count: Int) -> [AgentItem] {
            let query = request.ringQuery(from: request.after?.position(of: ring.id), count: count)
            let window = items.filter { item in
                if let after = query.after, item.seq < after { return false }
                if let before = query.before, item.seq >= before { return false }
                if let time = item.time {
                    if let since = query.since, time < since { return false }
                    if let until = query.until, time >= until { return false }
                }
                return true
            }
            return request.newestFirst ? Array(window.suffix(count)) : Array(window.prefix(count))
        }
    }

    let selection = LogSelection(tool: "t", source: .job("job"))

    /// A page as `MergedLogs.page` makes one: each ring asked for one item more than the page.
    func page(_ rings: [FakeRing], _ request: LogRequest, limit: Int, forwardMarks: Bool? = nil) -> MergedPage {
        let merge = PageMerge(rings: rings.map(\.ring), items: rings.map { $0.answer(request, count: limit + 1) }, ends: rings.map(\.ring.endSeq),
                              request: request, selection: selection)
        return merge.page(limit: limit, forwardMarks: forwardMarks, selected: rings.map(\.ring))
    }

    func messages(_ page: MergedPage) -> [String] {
        page.entries.map { entry in
            guard case let .agent(item) = entry.body else { return "?" }
            return (try? item.decoded().message) ?? "?"
        }
    }

    /// Every page of a read, each from the mark of the one before, as a client pages.
    func allPages(_ rings: [FakeRing], _ request: LogRequest, limit: Int) -> [String] {
        var request = request
        var seen: [String] = []
        for _ in 0..<100 {
            let page = page(rings, request, limit: limit)
            seen += messages(page)
            guard page.more, let mark = page.mark else { return seen }
            // The client holds only the cursor's text.
            request.after = try! CompositeCursor(parsing: CompositeCursor(mark: mark).text)
        }
        Issue.record("more than 100 pages")
        return seen
    }

    @Test func mergesByTimeThenRingAndSaysWhereEachRingGoesOn() {
        let a = FakeRing("a", times: [10, 30, 50])
        let b = FakeRing("b", times: [20, 30, 40])
        let first = page([a, b], LogRequest(), limit: 4)
        // At the same time, ring "a" comes before ring "b".
        #expect(messages(first) == ["a0", "b0", "a1", "b1"])
        #expect(first.more)
        #expect(first.mark == CompositeCursor.Mark(time: 30, ring: "b", seq: 30, newestFirst: false))
        #expect(first.positions.positions == ["a": .after(30), "b": .after(30)])
        #expect(first.entries.allSatisfy { $0.cursor?.text.hasPrefix("k1.") == true })
    }

    /// NDJSON puts a cursor on every thousandth entry of a page and on its last; an entry sent
    /// alone, SSE's events and JSON pages carry one each. Text is the lines' bytes.
    @Test func cursorsGoWhereAClientResumesFrom() throws {
        let ring = FakeRing("a", times: (0..<2500).map { Int64($0) })
        let entries = page([ring], LogRequest(), limit: 2500).entries
        var ndjson = StreamEncoder(.ndjson, limitBytes: nil)
        let lines = String(decoding: ndjson.encode(entries), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2500)
        let withCursor = lines.indices.filter { lines[$0].contains("\"cursor\":\"k1.") }
        #expect(withCursor == [999, 1999, 2499])
        // The cursor of the 1,000th resumes right after it.
        let cursor = try CompositeCursor(parsing: #require(entries[999].cursor).text)
        var resumed = LogRequest()
        resumed.after = cursor
        #expect(messages(page([ring], resumed, limit: 1)) == ["a1000"])
        let encoded = ndjson.encode(entries[5])
        let alone = try #require(encoded)
        #expect(String(decoding: alone, as: UTF8.self).contains("\"cursor\":\"k1."))
        // The entry that spends `limit_bytes` ends the answer: it carries a cursor too.
        var budgeted = StreamEncoder(.ndjson, limitBytes: 20_000)
        let cut = String(decoding: budgeted.encode(entries), as: UTF8.self).split(separator: "\n")
        #expect(cut.count > 10 && cut.count < 999)
        #expect(cut.last?.contains("\"cursor\":\"k1.") == true)
        #expect(cut.dropLast().allSatisfy { !$0.contains("\"cursor\"") })
        var sse = StreamEncoder(.sse, limitBytes: nil)
        #expect(String(decoding: sse.encode(Array(entries.prefix(3))), as: UTF8.self).components(separatedBy: "id: k1.").count == 4)
        var text = StreamEncoder(.text, limitBytes: nil)
        #expect(String(decoding: text.encode(Array(entries.prefix(3))), as: UTF8.self) == "a0\na1\na2\n")
    }

    /// Text of an agent's item: its message unescaped, its raw bytes when it had to carry
    /// them in base64, no newline after a line the runtime split.
    @Test func textIsTheMessagesBytes() throws {
        func text(_ item: LogItem) throws -> String? {
            let line = try AgentItem(line: Array(AgentItem.line(item, seq: 1, next: 2, time: 5).dropLast()))
            return ReadEntry(line).text().map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(try text(LogItem(type: .log, message: "say \"hi\"\t\u{2028}é")) == "say \"hi\"\t\u{2028}é\n")
        #expect(try text(LogItem(type: .log, message: "part", partial: true)) == "part")
        let raw: [UInt8] = [0x61, 0xff, 0x62]
        let line = try AgentItem(line: Array(AgentItem.line(LogItem.line(raw, datetime: "d", stream: "stdout"), seq: 1, next: 2, time: 5).dropLast()))
        #expect(ReadEntry(line).text() == raw + [0x0a])
        #expect(try text(LogItem(type: .gap, message: "… 3 lines not kept …", records: 3)) == nil)
    }

    @Test func pagingFromEachMarkHandsOutEveryItemOnceWhateverThePageSize() {
        // Ties across rings at the same time, and several items of one ring at one time.
        let rings = [FakeRing("a", times: [1, 2, 2, 2, 5, 7, 7]), FakeRing("b", times: [2, 2, 3, 7]), FakeRing("c", times: [0, 7, 7, 8])]
        let everything = messages(page(rings, LogRequest(), limit: 1000))
        #expect(everything.count == 15)
        for limit in 1...6 {
            #expect(allPages(rings, LogRequest(), limit: limit) == everything, "forward, pages of \(limit)")
            var newestFirst = LogRequest()
            newestFirst.newestFirst = true
            #expect(allPages(rings, newestFirst, limit: limit) == everything.reversed(), "newest first, pages of \(limit)")
        }
    }

    @Test func aWindowAndACountBoundThePages() {
        let rings = [FakeRing("a", times: [1, 3, 5, 7, 9]), FakeRing("b", times: [2, 4, 6, 8])]
        var window = LogRequest()
        window.since = 3
        window.until = 8
        #expect(allPages(rings, window, limit: 2) == ["a1", "b1", "a2", "b2", "a3"])
        var last = LogRequest()
        last.newestFirst = true
        #expect(messages(page(rings, last, limit: 3)) == ["a4", "b3", "a3"])
    }

    @Test func aFollowsFirstPageIsShownOldestFirstWithMarksGoingForward() {
        let rings = [FakeRing("a", times: [1, 3, 5]), FakeRing("b", times: [2, 4])]
        var last = LogRequest()
        last.newestFirst = true
        let first = page(rings, last, limit: 3, forwardMarks: true)
        #expect(messages(first) == ["a1", "b1", "a2"])
        #expect(first.mark == CompositeCursor.Mark(time: 3, ring: "a", seq: 30, newestFirst: false))
        // Each ring goes on after its newest item.
        #expect(first.positions.positions == ["a": .after(40), "b": .after(30)])
    }

    @Test func aGapTakesItsNeighboursTimeAndARingOfGapsTheReadsStart() {
        let rings = [FakeRing("a", times: [1, nil, 5]), FakeRing("b", times: [nil, nil]), FakeRing("c", times: [3])]
        var request = LogRequest()
        request.since = 0
        // a's gap sits at 1, right after a0; b's gaps have no time at all and stand at the start (0).
        #expect(messages(page(rings, request, limit: 10)) == ["b0", "b1", "a0", "a1", "c0", "a2"])
        let undated = page(rings, request, limit: 10).entries.first!
        #expect(undated.datetime == NanoTime.format(0))
    }

    @Test func aRingThatSentNothingGoesOnFromWhereItsAgentSaidItEnded() {
        let a = FakeRing("a", times: [1, 2])
        let quiet = FakeRing("q", times: [])
        let unasked = FakeRing("u", times: [])
        // The index says q ends at 10 (seconds old); its agent said 500 as the read began.
        let merge = PageMerge(rings: [a.ring, quiet.ring], items: [a.answer(LogRequest(), count: 3), []], ends: [30, 500],
                              request: LogRequest(), selection: selection)
        let page = merge.page(limit: 2, selected: [a.ring, quiet.ring, unasked.ring])
        #expect(page.positions.positions == ["a": .after(30), "q": .after(500), "u": .after(unasked.ring.endSeq)])
        // An agent of an earlier release says nothing: the index's end, as before.
        let older = PageMerge(rings: [quiet.ring], items: [[]], ends: [nil], request: LogRequest(), selection: selection)
        #expect(older.page(limit: 2, selected: [quiet.ring]).positions.positions == ["q": .after(quiet.ring.endSeq)])
    }

    @Test func mergeTakesAtMostTheLimitAndSaysWhetherMoreAreLeft() {
        let a = FakeRing("a", times: [1, 2, 3])
        let merged = PageMerge.merge([a.items, []], ringIDs: ["a", "b"], newestFirst: false, limit: 2, undated: 0)
        #expect(merged.order.map(\.index) == [0, 1])
        #expect(merged.taken == [2, 0])
        #expect(merged.more)
        #expect(!PageMerge.merge([a.items], ringIDs: ["a"], newestFirst: true, limit: 3, undated: 0).more)
    }
}
