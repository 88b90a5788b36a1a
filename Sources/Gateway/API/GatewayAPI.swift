import HTTPEnvelope
import AgentWire
import ClientConnections
import Foundation
import LogModel
import Logging
import OpenAPIRuntime
import Prometheus
import ServiceLifecycle

/// The public API, as generated from `openapi/openapi.yaml`: authorization first, then the
/// index says which agents hold what, and reads are pulled (or followed) from them and merged.
struct GatewayAPI: APIProtocol {
    let index: AgentIndex
    let client: AgentClient
    let merged: MergedLogs
    let access: AccessPolicy
    let registry: PrometheusCollectorRegistry
    let follows: FollowSlots
    let metrics = GatewayMetrics()
    let audit: Logger

    // MARK: service

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        let warnings = access.members.lastError.map { ["the members file is unreadable, the last good one is used: \($0)"] } ?? []
        return .ok(.init(body: .json(.init(messages: .init(info: [], warning: warnings, error: []), data: .init(status: .ok)))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        metrics.update(follows: follows.total, pulls: merged.shared.activePulls, index: index.size)
        return .ok(.init(body: .plainText(HTTPBody(registry.emitToString()))))
    }

    // MARK: inventory

    func getInventory(_ input: Operations.GetInventory.Input) async throws -> Operations.GetInventory.Output {
        let tool = input.path.toolname
        try LogSelection(tool: tool, source: .activity).validate()
        try access.requireReader(of: tool)
        let (rings, unreachable) = index.rings(tool: tool)
        let rows = rings.map { agent, ring in
            Components.Schemas.RingRow(kind: .init(ring.kind), name: ring.name, run: ring.run,
                                       segment: ring.segment, pod: ring.pod, container: ring.container, node: agent.node,
                                       state: ring.state == .live ? .live : .finished, started: ring.startedAt,
                                       finished: ring.finishedAt, exitCode: ring.exitCode.map(Int.init), reason: ring.reason,
                                       bytesKept: Int(ring.keptBytes), bytesDropped: Int(ring.rolledBytes + ring.droppedBytes),
                                       available: index.isReachable(agent.node))
        }
        let folded = index.foldedJobs(tool: tool).compactMap { node, job, reachable in
            Components.Schemas.FoldedRow.KindPayload(job.kind).map {
                Components.Schemas.FoldedRow(kind: $0, name: job.name, node: node, available: reachable)
            }
        }
        return .ok(.init(body: .json(.init(messages: messages(unreachable: unreachable), data: .init(rings: rows, folded: folded)))))
    }

    func getJobRuns(_ input: Operations.GetJobRuns.Input) async throws -> Operations.GetJobRuns.Output {
        let tool = input.path.toolname
        let selection = LogSelection(tool: tool, source: .job(input.path.job))
        try selection.validate()
        try access.requireReader(of: tool)
        let limit = input.query.limit ?? RunPage.defaultLimit
        guard (1...FoldedQuery.maxLimit).contains(limit) else {
            throw EnvelopeError(.badRequest, "limit: must be from 1 to \(FoldedQuery.maxLimit), not \(limit)")
        }
        let before = try input.query.before.map { try RunPage.key(parsing: $0) }
        let state = input.query.state.flatMap { JobRun.State(rawValue: $0.rawValue) }
        // The runs the index holds (live, and finished ones not folded yet), and a page from
        // each node that folded runs of this job: together they hold the job's page.
        var query = selection.folded
        (query.before, query.limit, query.state) = (before, limit + 1, state)
        func look() async -> (indexed: [(AgentEndpoint, AgentRing)], unreachable: [String], folded: FoldedLookup.Found) {
            let (indexed, unreachable) = index.rings(tool: tool, where: selection.belongs, sorted: false)
            return (indexed, unreachable, await foldedRuns.runs(selection, query))
        }
        var found = await look()
        if found.indexed.isEmpty, found.folded.rings.isEmpty {
            await index.refresh()
            found = await look()
        }
        let unreachable = (found.unreachable + found.folded.failed).sorted()
        if found.indexed.isEmpty, found.folded.runs == 0 { throw missing(selection, unreachable: unreachable) }
        let indexed = found.folded.unfolded(found.indexed).map(\.1)
        let page = RunPage(JobRun.group(indexed + found.folded.rings.map(\.1)), indexed: JobRun.group(indexed),
                           folded: (found.folded.runs, found.folded.oldest), before: before, state: state, limit: limit) { node in
            index.isReachable(node)
        }
        return .ok(.init(body: .json(.init(messages: messages(unreachable: unreachable),
                                           data: .init(runs: page.runs, next: page.next, total: page.total, oldest: page.oldest)))))
    }

    private var foldedRuns: FoldedLookup { FoldedLookup(index: index, client: client) }

    // MARK: logs

    func getToolLogs(_ input: Operations.GetToolLogs.Input) async throws -> Operations.GetToolLogs.Output {
        let q = input.query
        let scope = try ToolLogScope(sources: q.sources, jobNames: q.jobNames, buildIDs: q.buildIds, deploymentIDs: q.deploymentIds)
        var parameters = LogParameters(q, accept: Self.accept(input.headers.accept))
        parameters.filters = scope.query
        return .ok(try await logs(LogSelection(tool: input.path.toolname, source: .tool(scope)), parameters, emptyIsFine: true))
    }

    func getJobLogs(_ input: Operations.GetJobLogs.Input) async throws -> Operations.GetJobLogs.Output {
        let q = input.query
        let job = input.path.job
        return .ok(try await logs(LogSelection(tool: input.path.toolname, source: .job(job), run: q.run ?? "all", container: q.container),
                                  LogParameters(q, lastEventID: input.headers.lastEventID, accept: Self.accept(input.headers.accept)),
                                  notFound: "Job '\(job)' does not have any logs available"))
    }

    func getJobLogsStream(_ input: Operations.GetJobLogsStream.Input) async throws -> Operations.GetJobLogsStream.Output {
        let q = input.query
        var parameters = LogParameters(q, accept: "application/x-ndjson")
        parameters.follow = true
        let job = input.path.job
        let selection = LogSelection(tool: input.path.toolname, source: .job(job), run: q.run ?? "all", container: q.container)
        guard case let .applicationXNdjson(body) = try await logs(selection, parameters, keepAlive: true,
                                                                   notFound: "Job '\(job)' does not have any logs available").body
        else { throw EnvelopeError(.internalServerError, "a follow answered other than NDJSON") }
        return .ok(.init(headers: .init(xAccelBuffering: .no), body: .applicationXNdjson(body)))
    }

    func getWebserviceLogs(_ input: Operations.GetWebserviceLogs.Input) async throws -> Operations.GetWebserviceLogs.Output {
        let q = input.query
        return .ok(try await logs(LogSelection(tool: input.path.toolname, source: .webservice, run: q.run ?? "latest", container: q.container),
                                  LogParameters(q, lastEventID: input.headers.lastEventID, accept: Self.accept(input.headers.accept))))
    }

    func getBuildLogs(_ input: Operations.GetBuildLogs.Input) async throws -> Operations.GetBuildLogs.Output {
        let q = input.query
        return .ok(try await logs(LogSelection(tool: input.path.toolname, source: .build(input.path.build), container: q.container),
                                  LogParameters(q, lastEventID: input.headers.lastEventID, accept: Self.accept(input.headers.accept))))
    }

    func getActivity(_ input: Operations.GetActivity.Input) async throws -> Operations.GetActivity.Output {
        .ok(try await logs(LogSelection(tool: input.path.toolname, source: .activity),
                           LogParameters(input.query, lastEventID: input.headers.lastEventID, accept: Self.accept(input.headers.accept)),
                           emptyIsFine: true))
    }

    func getSourceLogs(_ input: Operations.GetSourceLogs.Input) async throws -> Operations.GetSourceLogs.Output {
        .ok(try await logs(LogSelection(tool: input.path.toolname, source: .custom(input.path.source)),
                           LogParameters(input.query, lastEventID: input.headers.lastEventID, accept: Self.accept(input.headers.accept))))
    }

    private static func accept<T>(_ accept: [AcceptHeaderContentType<T>]) -> String? {
        accept.sortedByQuality().first?.contentType.rawValue
    }

    /// The rings of a selection, the index's and the folded ones that `choice` can need (`all`:
    /// every one, for a purge); on a miss the index asks the agents again before answering 404,
    /// and a miss while some agent is unreachable is a 503, not a 404.
    private func resolve(_ selection: LogSelection, all: Bool = false, emptyIsFine: Bool = false, choice: RingChoice = RingChoice()) async throws
        -> ([(AgentEndpoint, AgentRing)], [String]) {
        let matches: (AgentRing) -> Bool = { all ? selection.belongs($0) : selection.mayChoose($0) }
        func look() async -> (rings: [(AgentEndpoint, AgentRing)], unreachable: [String]) {
            var found = index.rings(tool: selection.tool, where: matches, sorted: false)
            let folded = await folded(selection, all: all, choice: choice)
            found.rings = folded.merged(with: found.rings)
            found.unreachable = (found.unreachable + folded.failed).sorted()
            guard !all else { return found }
            found.rings.sort { ($0.1.startedAt ?? "", $0.1.id) < ($1.1.startedAt ?? "", $1.1.id) }
            return found
        }
        var lookup = await look()
        var chosen = all ? lookup.rings : selection.choose(lookup.rings)
        if chosen.isEmpty {
            await index.refresh()
            lookup = await look()
            chosen = all ? lookup.rings : selection.choose(lookup.rings)
        }
        if chosen.isEmpty, !emptyIsFine {
            let jobKnown = !all && isKnown(selection)
            let which = !jobKnown ? "" : " for run \(selection.run)\(selection.container.map { " and container \($0)" } ?? "")"
            throw missing(selection, unreachable: lookup.unreachable, which: which)
        }
        return (chosen, lookup.unreachable)
    }

    /// Nothing of `selection` found: a 503 while a node that may hold it is unreachable, else a
    /// 404 (`which` narrows what was looked for) with a typo's hint.
    private func missing(_ selection: LogSelection, unreachable: [String], which: String = "") -> EnvelopeError {
        guard unreachable.isEmpty else {
            return EnvelopeError(.serviceUnavailable, "no logs of \(selection.description) found, and \(unreachable.joined(separator: ", ")) "
                + "\(unreachable.count == 1 ? "is" : "are") unreachable: they may be there")
        }
        return EnvelopeError(.notFound, "no logs of \(selection.description)\(which) for tool \(selection.tool)\(nameHint(selection))")
    }

    /// The folded rings a request needs: a given run's; for the newest run, each node's newest
    /// folded run (the newest of all is chosen among them and the index's); else those in
    /// `choice`'s window and count.
    private func folded(_ selection: LogSelection, all: Bool, choice: RingChoice) async -> FoldedLookup.Found {
        if all { return await foldedRuns.rings(selection, selection.folded) }
        switch selection.source {
        case .job, .webservice:
            guard selection.run == "latest" else { fallthrough }
            var query = selection.folded
            query.limit = 1
            return await foldedRuns.runs(selection, query)
        case .build, .activity, .custom, .tool:
            return await foldedRuns.rings(selection, selection.folded(for: choice))
        }
    }

    /// Whether the tool has rings of the selection, whatever their run: indexed, or folded.
    private func isKnown(_ selection: LogSelection) -> Bool {
        !index.rings(tool: selection.tool, where: selection.belongs, sorted: false).rings.isEmpty
            || !index.foldedHolders(tool: selection.tool, where: { selection.belongs(kind: $0.kind, name: $0.name) }).agents.isEmpty
    }

    /// For a name no ring of the tool has, the nearest one that a ring has, as git and kubectl
    /// answer a typo: ` (did you mean 'worker'?)`, or nothing.
    private func nameHint(_ selection: LogSelection) -> String {
        guard let named = selection.named else { return "" }
        let names = Set(index.rings(tool: selection.tool, where: { named.ofKind($0.kind) }, sorted: false).rings.map(\.1.name))
            .union(index.foldedHolders(tool: selection.tool) { named.ofKind($0.kind) }.names)
        guard !names.contains(named.name), let nearest = NearestName.nearest(to: named.name, among: names) else { return "" }
        return " (did you mean '\(nearest)'?)"
    }

    /// A read: `notFound` is the 404's text when the window holds nothing (a job's, as the
    /// platform's clients expect it); `keepAlive` keeps a quiet follow open with single spaces
    /// instead of heartbeat items, for clients that parse every line.
    private func logs(_ selection: LogSelection, _ parameters: LogParameters, emptyIsFine: Bool = false, keepAlive: Bool = false,
                      notFound: String? = nil) async throws -> Components.Responses.Logs {
        try selection.validate()
        let identity = try access.requireReader(of: selection.tool)
        let request = try parameters.request(now: NanoTime.now())
        let choice = request.choice(filtered: selection.filtersEntries)
        let (rings, unreachable): ([(AgentEndpoint, AgentRing)], [String])
        do {
            (rings, unreachable) = try await resolve(selection, emptyIsFine: emptyIsFine, choice: choice)
        } catch let error as EnvelopeError where error.status == .notFound && notFound != nil {
            throw EnvelopeError(.notFound, notFound! + nameHint(selection))
        }
        if let cursor = request.after {
            // A cursor names rings by id: it may only name rings of what is being read (those
            // of its runs that lie outside the window, folded, are looked up by id).
            var known = Set(index.rings(tool: selection.tool, where: selection.belongs, sorted: false).rings.map(\.1.id))
            known.formUnion(rings.map(\.1.id))
            let missing = cursor.rings.filter { !known.contains($0) }
            if !missing.isEmpty {
                var query = selection.folded
                query.ids = missing
                known.formUnion(await foldedRuns.rings(selection, query).rings.map(\.1.id))
            }
            guard cursor.rings.allSatisfy(known.contains) else {
                throw EnvelopeError(.badRequest, "after: the cursor is not one of \(selection.description) of \(selection.tool)")
            }
        }
        audit.info("read", metadata: ["who": "\(identity)", "tool": "\(selection.tool)", "what": "\(selection.description)",
                                      "follow": "\(request.follow)"])
        let notes = messages(unreachable: unreachable)
        let headers = Components.Responses.Logs.Headers(xAccelBuffering: .no)
        let format = parameters.format
        if format == .json, !request.follow {
            let wanted = min(LogParameters.pageEntries, request.lines ?? .max)
            var page = await merged.page(rings, request, limit: wanted, of: selection)
            // A page that filters emptied goes on from where it stopped, a bounded number of times.
            var looks = 1
            while page.entries.isEmpty, page.more, looks < 20, let mark = page.mark {
                var further = request
                further.after = CompositeCursor(mark: mark)
                page = await merged.page(rings, further, limit: wanted, of: selection)
                looks += 1
            }
            if page.entries.isEmpty, request.after == nil, !page.more {
                if !page.warnings.isEmpty {
                    throw EnvelopeError(.serviceUnavailable, "no logs of \(selection.description) found, and " + page.warnings.joined(separator: "; "))
                }
                if let notFound { throw EnvelopeError(.notFound, notFound) }
            }
            var pageNotes = notes
            pageNotes.warning += page.warnings
            let owed = (request.lines ?? .max) - page.entries.count
            let next = page.more && owed > 0 ? page.mark.map { parameters.nextURL(request, served: page.entries.count, mark: $0) } : nil
            // The entries go out as the agents wrote them (see PreparedJSON); the typed value
            // stands in for them.
            try PreparedJSON.answer(LogEncoding.page(page.entries, next: next, messages: pageNotes))
            return .init(headers: headers, body: .json(.init(messages: pageNotes, data: .init(logs: []))))
        }
        if format == .text, !request.follow, !selection.filtersEntries, case let needed = choice.choose(rings, ring: { $0.1 }),
           needed.count == 1, let (agent, ring) = needed.first {
            // One ring as text: the agent's bytes pass through, so a download runs at its speed.
            var query = request.ringQuery(from: request.after?.position(of: ring.id), count: request.lines)
            query.limitBytes = request.limitBytes  // one ring: the agent's budget is the answer's
            // Its answer is awaited (a 429 after the tries is the client's): a client that hangs
            // up meanwhile ends the wait, and the tries.
            let answer = Task { [client] in try await client.text(agent, ring: ring.id, query) }
            ClientConnection.current?.onClose { answer.cancel() }
            let bytes = try await withTaskCancellationHandler { try await answer.value } onCancel: { answer.cancel() }
            return .init(headers: headers, body: .plainText(HTTPBody(ClientConnection.ending(bytes),
                                                                      length: .unknown, iterationBehavior: .single)))
        }
        if request.follow { try follows.acquire(selection.tool) }
        let body = stream(rings, selection, request, format: format, keepAlive: keepAlive, warnings: notes.warning)
        switch format {
        case .sse: return .init(headers: headers, body: .textEventStream(body))
        case .text: return .init(headers: headers, body: .plainText(body))
        case .json, .ndjson: return .init(headers: headers, body: .applicationXNdjson(body))
        }
    }

    /// A streamed answer (`LogStreamResponder`), its follow slot given back when it ends.
    private func stream(_ rings: [(AgentEndpoint, AgentRing)], _ selection: LogSelection, _ request: LogRequest,
                        format: LogParameters.Format, keepAlive: Bool, warnings: [String]) -> HTTPBody {
        // A few chunks ahead of the client at most: a slow one holds back its own read.
        let (bytes, out) = BoundedStream<ArraySlice<UInt8>>.make(capacity: 4)
        let responder = LogStreamResponder(merged: merged, index: index, rings: rings, selection: selection, request: request,
                                           format: format, keepAlive: keepAlive, out: out)
        // A bounded read runs at background priority: on Linux the runtime gives that its own
        // threads at nice 10, so downloads yield the CPU to follows where both want it.
        let task = Task(priority: request.follow ? nil : .background) {
            var responder = responder
            await responder.respond(warnings: warnings)
        }
        let follows = follows
        bytes.onTermination {
            task.cancel()
            if request.follow { follows.release(selection.tool) }
        }
        return HTTPBody(ClientConnection.ending(bytes), length: .unknown, iterationBehavior: .single)
    }

    private func messages(unreachable: [String]) -> Components.Schemas.Messages {
        .init(info: [], warning: unreachable.map { "\($0) is unreachable: what it holds is not included" }, error: [])
    }

    // MARK: push

    func pushSourceLog(_ input: Operations.PushSourceLog.Input) async throws -> Operations.PushSourceLog.Output {
        let tool = input.path.toolname
        let source = input.path.source
        try LogSelection(tool: tool, source: .custom(source)).validate()
        let identity = try access.requireWriter(of: tool, source: source, path: "/v1/tool/\(tool)/source/\(source)/log")
        guard case let .json(body) = input.body else { throw EnvelopeError(.badRequest, "the body must be a JSON object or array") }
        let typed: [Components.Schemas.PushedLine]
        switch body {
        case let .PushedLine(line): typed = [line]
        case let .case2(lines): typed = lines
        }
        // A custom source of that name would read back as the platform's.
        guard !ToolLogScope.sourceNames.contains(source) || ToolLogScope.eventSources[source] != nil else {
            throw EnvelopeError(.badRequest, "\(source) is the name of a source of the tool's log; push to another name")
        }
        let lines = try typed.map { try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode($0)) }
        do throws(PushedLines.Refusal) {
            try PushedLines.check(lines, source: source, now: NanoTime.now())
        } catch {
            throw EnvelopeError(error.tooLarge ? .contentTooLarge : .badRequest, error.description)
        }
        guard let agent = index.agents.max(by: { rank(tool, source, $0.node) < rank(tool, source, $1.node) }) else {
            throw EnvelopeError(.serviceUnavailable, "no agent is known yet to keep source \(source) of \(tool)")
        }
        guard index.isReachable(agent.node) else {
            throw EnvelopeError(.serviceUnavailable, "\(agent.node), which keeps source \(source) of \(tool), is unreachable")
        }
        let answer = try await client.push(agent, tool: tool, source: source, lines: lines)
        audit.info("push", metadata: ["who": "\(identity)", "tool": "\(tool)", "source": "\(source)", "lines": "\(answer.lines)"])
        return .created(.init(body: .json(.init(messages: .init(info: ["\(answer.lines) line\(answer.lines == 1 ? "" : "s") kept"], warning: [], error: []),
                                                data: .init(status: .ok, lines: answer.lines)))))
    }

    /// Rendezvous hashing: each (tool, source) goes to the agent that ranks it highest, so that
    /// adding or removing an agent moves only the sources that agent wins or held.
    private func rank(_ tool: String, _ source: String, _ node: String) -> UInt64 {
        "\(tool)/\(source)/\(node)".utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    // MARK: purge

    func deleteJobLogs(_ input: Operations.DeleteJobLogs.Input) async throws -> Operations.DeleteJobLogs.Output {
        let selection = LogSelection(tool: input.path.toolname, source: .job(input.path.job), run: "all")
        return .ok(try await purge(selection, run: nil))
    }

    func deleteJobRun(_ input: Operations.DeleteJobRun.Input) async throws -> Operations.DeleteJobRun.Output {
        let selection = LogSelection(tool: input.path.toolname, source: .job(input.path.job), run: input.path.run)
        return .ok(try await purge(selection, run: input.path.run))
    }

    func deleteBuild(_ input: Operations.DeleteBuild.Input) async throws -> Operations.DeleteBuild.Output {
        .ok(try await purge(LogSelection(tool: input.path.toolname, source: .build(input.path.build)), run: nil))
    }

    private func purge(_ selection: LogSelection, run: String?) async throws -> Components.Responses.Purged {
        try selection.validate()
        let identity = try access.requireReader(of: selection.tool)
        let (rings, _) = try await resolve(selection, all: run == nil)
        for (agent, ring) in rings {
            _ = try await client.purge(agent, ring: ring.id)
        }
        await index.refresh()
        audit.info("purge", metadata: ["who": "\(identity)", "tool": "\(selection.tool)", "what": "\(selection.description)",
                                       "run": "\(run ?? "all")", "rings": "\(rings.count)"])
        let what = run.map { "run \($0) of \(selection.description)" } ?? "\(selection.description), every run"
        return .init(body: .json(.init(messages: .init(info: ["purged the logs of \(what)"], warning: [], error: []),
                                       data: .init(rings: rings.count))))
    }

    func purgeTool(_ input: Operations.PurgeTool.Input) async throws -> Operations.PurgeTool.Output {
        let identity = try access.requireAdmin()
        let tool = input.path.toolname
        try LogSelection(tool: tool, source: .activity).validate()
        var purged = 0
        var warnings: [String] = []
        for agent in index.agents {
            do {
                purged += try await client.purge(agent, tool: tool).rings
            } catch {
                warnings.append("\(agent.node): \(error)")
            }
        }
        await index.refresh()
        audit.info("purge tool", metadata: ["who": "\(identity)", "tool": "\(tool)", "rings": "\(purged)"])
        return .ok(.init(body: .json(.init(messages: .init(info: ["purged every log of tool \(tool) (\(purged) in all)"], warning: warnings, error: []),
                                           data: .init(rings: purged)))))
    }

    // MARK: admin

    func getNodes(_ input: Operations.GetNodes.Input) async throws -> Operations.GetNodes.Output {
        try access.requireAdmin()
        var nodes: [Components.Schemas.NodeUsage] = []
        for agent in index.agents { nodes.append(await usage(agent)) }
        return .ok(.init(body: .json(.init(messages: .init(info: [], warning: [], error: []), data: .init(nodes: nodes)))))
    }

    func getNode(_ input: Operations.GetNode.Input) async throws -> Operations.GetNode.Output {
        try access.requireAdmin()
        guard let agent = index.endpoint(node: input.path.node) else { throw EnvelopeError(.notFound, "no node \(input.path.node)") }
        return .ok(.init(body: .json(.init(messages: .init(info: [], warning: [], error: []), data: await usage(agent)))))
    }

    private func usage(_ agent: AgentEndpoint) async -> Components.Schemas.NodeUsage {
        guard let stats = try? await client.stats(agent) else {
            return .init(node: agent.node, available: false)
        }
        let usage = stats.usage
        return .init(node: agent.node, available: true, budgetBytes: usage.budgetBytes.map(Int.init), usedBytes: Int(usage.usedBytes),
                     keptBytes: Int(usage.keptBytes),
                     liveRings: usage.liveRings, finishedRings: usage.finishedRings, foldedRings: usage.foldedRings,
                     evicted: stats.evicted?.compactMap { evicted in
                         Components.Schemas.Evicted.ReasonPayload(rawValue: evicted.reason).map {
                             .init(reason: $0, runs: evicted.runs, bytes: Int(evicted.bytes))
                         }
                     },
                     rolledBytes: Int(usage.rolledBytes),
                     droppedBytes: Int(usage.droppedBytes), ingestedBytes: Int(stats.ingestedBytes), diskFull: stats.diskFull,
                     tools: usage.tools.map {
                         .init(tool: $0.tool, bytes: Int($0.bytes), keptBytes: Int($0.keptBytes), rings: $0.rings, liveRings: $0.liveRings,
                               runs: $0.runs, foldedRings: $0.foldedRings, rolledBytes: Int($0.rolledBytes), droppedBytes: Int($0.droppedBytes))
                     },
                     reads: stats.reads?.map { .init(tool: $0.tool, running: $0.running, waiting: $0.waiting) },
                     readsRefused: stats.readsRefused.map { Int($0) })
    }
}
