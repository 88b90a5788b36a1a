import AgentWire
import ClientConnections
import FairShare
import Foundation
import HTTPEnvelope
import Hummingbird
import LogModel
import Logging
import Prometheus
import RingStore

/// The agent's HTTP API: `/healthz` and `/metrics` for anyone, everything under `/internal/v2`
/// only for the gateway (bearer token).
struct AgentAPI: Sendable {
    let node: String
    let store: RingDirectory
    let inventory: Inventory
    let toolRings: ToolRings
    let ingestor: Ingestor
    let retiredContainers: RetiredContainers
    let health: AgentHealth
    let registry: PrometheusCollectorRegistry
    let metrics: AgentMetrics
    let token: String?
    let heartbeat: Duration
    let retention: RetentionPolicy
    /// Where ring reads run, in turns by tool; and how many reads that may scan a tool may run at once.
    let reads: FairPool
    /// Where a follow that has caught up reads what was just appended: at normal priority (see `RingLogStream`).
    let follows: FairPool
    /// Where the rest of the agent's blocking work runs: purges, pushes, listings, usage.
    let upkeep: FairPool
    let admission: ToolAdmission
    let logger: Logger

    func router() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.add(middleware: EnvelopeMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ClientConnectionMiddleware<AgentRequestContext>())
        router.get("healthz") { _, _ in try health.response() }
        router.get("metrics") { _, _ in
            let usage = try await upkeep.run(":usage") { try store.usage(budgetBytes: retention.budgetBytes) }
            metrics.update(usage: usage, ingest: ingestor.stats.withLock { $0 }, health: health, reads: admission.load)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let api = router.group(RouterPath(AgentRoutes.prefix))
        if let token { api.add(middleware: BearerTokenMiddleware(token: Array(token.utf8))) }
        api.get(RouterPath(AgentRoutes.Pattern.rings)) { request, _ in try await upkeep.run(":inventory") { try rings(request) } }
        api.get(RouterPath(AgentRoutes.Pattern.ringLogs)) { request, context in
            let ring = try ring(context)
            let query: RingReadQuery
            do throws(RingReadQuery.Invalid) {
                query = try RingReadQuery(parsing: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
            } catch {
                throw EnvelopeError(.badRequest, error.description)
            }
            // Only a read that may scan takes one of its tool's places (a merged read's pages,
            // one per ring at once, do not queue behind the tool's own downloads).
            let connection = ClientConnection.current
            let ticket = query.mayScan ? try await place(for: ring.metadata.tool, connection) : nil
            return RingLogStream(ring: ring, node: node, query: query, format: .init(accept: request.headers[.accept]),
                                 heartbeat: heartbeat, metrics: metrics, reads: reads, follows: follows,
                                 connection: connection).response(holding: ticket)
        }
        api.delete(RouterPath(AgentRoutes.Pattern.ring)) { _, context in
            let ring = try ring(context)
            return try await upkeep.run(ring.metadata.tool) { try purge(ring) }
        }
        let folded = FoldedRuns(node: node, store: store)
        // A job's folded runs are read from its history file and the run index: a page, in the tool's turn.
        api.get(RouterPath(AgentRoutes.Pattern.foldedRings)) { request, context in
            let (tool, query) = try (name(context, "tool"), foldedQuery(request))
            return try await reads.run(tool) { try Envelope.json(folded.rings(tool: tool, query)) }
        }
        api.get(RouterPath(AgentRoutes.Pattern.foldedRuns)) { request, context in
            let (tool, query) = try (name(context, "tool"), foldedQuery(request))
            return try await reads.run(tool) { try Envelope.json(folded.runs(tool: tool, query)) }
        }
        api.get(RouterPath(AgentRoutes.Pattern.stats)) { _, _ in try await upkeep.run(":usage") { try stats() } }
        api.post(RouterPath(AgentRoutes.Pattern.customSource)) { request, context in try await push(request, context) }
        api.delete(RouterPath(AgentRoutes.Pattern.tool)) { _, context in
            let tool = try name(context, "tool")
            return try await upkeep.run(tool) { try purge(tool: tool) }
        }
        return router
    }

    private func ring(_ context: AgentRequestContext) throws -> Ring {
        let text = context.parameters.get("id") ?? ""
        guard let id = RingID(text) else { throw EnvelopeError(.badRequest, "not a ring id: \(text)") }
        guard let ring = store.ring(id) else { throw EnvelopeError(.notFound, "no ring \(id) on \(node)") }
        return ring
    }

    /// A tool or source name: an RFC 1123 label, so that no path trick can name anything else.
    private func name(_ context: AgentRequestContext, _ parameter: String) throws -> String {
        let text = context.parameters.get(parameter) ?? ""
        guard NameRules.isLabel(text) else {
            throw EnvelopeError(.badRequest, "\(parameter): must be a lowercase RFC 1123 label (a-z, 0-9, -; at most 63), not \(text)")
        }
        return text
    }

    /// One of the tool's places for a read that may scan, or the 429 that says when to try
    /// again; the wait for one ends if `connection` closes (nobody is answered, nothing counted).
    private func place(for tool: String, _ connection: ClientConnection?) async throws -> ToolAdmission.Ticket {
        do throws(ToolAdmission.Busy) {
            return try await admission.acquire(tool) { giveUp in connection?.onClose(giveUp) }
        } catch {
            if error.abandoned { throw CancellationError() }
            metrics.readRefused()
            throw EnvelopeError(.tooManyRequests, "tool \(tool) has \(error.limit) reads running on this node: try again in \(error.retryAfter) s",
                                retryAfter: error.retryAfter)
        }
    }

    private func foldedQuery(_ request: Request) throws -> FoldedQuery {
        do throws(InvalidQuery) {
            return try FoldedQuery(parsing: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        } catch {
            throw EnvelopeError(.badRequest, error.description)
        }
    }

    private func rings(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        var filter = RingFilter()
        filter.tool = query["tool"].map(String.init)
        filter.name = query["name"].map(String.init)
        filter.run = query["run"].map(String.init)
        if let kind = query["kind"].map(String.init) {
            guard let value = RingKind(rawValue: kind) else {
                throw EnvelopeError(.badRequest, "kind: must be one of \(RingKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.kind = value
        }
        if let text = query["state"].map(String.init) {
            guard let state = AgentRing.State(rawValue: text) else { throw EnvelopeError(.badRequest, "state: must be live or finished, not \(text)") }
            filter.finished = state == .finished
        }
        var since: UInt64?
        if let text = query["since_version"] {
            guard let value = UInt64(text) else { throw EnvelopeError(.badRequest, "since_version: must be a whole number") }
            since = value
        }
        // A gateway of this release asks for folded runs by job; one of an earlier release
        // lists them all, as it always did.
        var byJob = false
        if let text = query["folded"] {
            guard text == "by-job" else { throw EnvelopeError(.badRequest, "folded: must be by-job, not \(text)") }
            byJob = true
        }
        let delta = inventory.delta(since: since)
        var files = filter
        if byJob { files.folded = false }
        // A delta looks up only what changed: a gateway of an earlier release lists folded runs
        // too, and reading all of them at every poll would cost a read per run.
        let listed = delta.changed.map { $0.compactMap(store.ring).filter(files.matches).sorted { $0.id < $1.id } } ?? store.rings(matching: files)
        let rows = try listed.map { try InventoryRow.make($0.info(), node: node) }
        // A ring that changed and is no longer a ring file folded: a by-job listing names its job instead.
        let listedIDs = Set(listed.map(\.id))
        let folded = byJob ? (delta.changed ?? []).filter { id in
            !listedIDs.contains(id) && store.foldedRun(id).map { filter.matches(folded: $0) } == true
        } : []
        // Which jobs have folded runs changes only when a ring folds or goes.
        let jobs = byJob && (delta.changed == nil || !folded.isEmpty || !delta.removed.isEmpty)
            ? store.foldedJobs.map { FoldedJob(tool: $0.tool, kind: AgentRing.Kind($0.kind), name: $0.name) }
                .sorted { ($0.tool, $0.name, $0.kind.rawValue) < ($1.tool, $1.name, $1.kind.rawValue) }
            : nil
        return try Envelope.json(AgentInventory(node: node, instance: inventory.instance, version: delta.version,
                                                full: delta.changed == nil, rings: rows,
                                                removed: (delta.removed + folded).map(\.description),
                                                foldedJobs: jobs))
    }

    /// Records a ring's container as retired, before the ring goes (`RetiredContainers`).
    private func remember(_ ring: Ring) throws {
        try retiredContainers.add([ring.metadata.containerKey].compactMap { $0 })
    }

    private func purge(_ ring: Ring) throws -> Response {
        let metadata = ring.metadata
        try remember(ring)
        try store.delete(ring.id)
        inventory.remove(ring.id)
        if metadata.kind != .activity {
            do {
                try toolRings.record([ActivityEvent(.purged, of: metadata, message: "\(metadata.kind.rawValue) \(metadata.name) run \(metadata.run) purged",
                                                    time: NanoTime.now(), detailed: false)])
            } catch {
                // Purged all the same: the line saying so is what is missing.
                AgentFailure.activityRecord.record(error, logger: logger, ["tool": "\(metadata.tool)", "ring": "\(ring.id)"])
            }
        }
        return try Envelope.json(PurgeAnswer(messages: Messages(info: ["purged ring \(ring.id)"]), rings: 1))
    }

    /// Every ring of a tool, and its history files.
    private func purge(tool: String) throws -> Response {
        // One synced write for all of them: a tool may have thousands of runs. Folded runs'
        // containers were recorded when they folded.
        try retiredContainers.add(store.rings(matching: RingFilter(tool: tool, folded: false)).compactMap(\.metadata.containerKey))
        let purged = try store.purge(tool: tool)
        for id in purged { inventory.remove(id) }
        return try Envelope.json(PurgeAnswer(messages: Messages(info: ["purged \(purged.count) rings of \(tool)"]), rings: purged.count))
    }

    private func push(_ request: Request, _ context: AgentRequestContext) async throws -> Response {
        let tool = try name(context, "tool")
        let source = try name(context, "name")
        let body = try await request.body.collect(upTo: PushedLines.maxBodyBytes)
        // The gateway checked these lines by the same rule, its clock included; a line ahead of
        // this node's clock is stamped with its arrival (`ToolRings.push`).
        let lines: [[String: JSONValue]]
        do throws(PushedLines.Refusal) {
            lines = try PushedLines.decode(Array(buffer: body), source: source, now: nil)
        } catch {
            throw EnvelopeError(error.tooLarge ? .contentTooLarge : .badRequest, error.description)
        }
        let count = try await upkeep.run(tool) { [lines] in try toolRings.push(tool: tool, source: source, lines: lines, now: NanoTime.now()) }
        return try Envelope.json(PushAnswer(messages: Messages(info: ["\(count) lines kept"]), lines: count), status: .created)
    }

    private func stats() throws -> Response {
        let usage = try store.usage(budgetBytes: retention.budgetBytes)
        let ingest = ingestor.stats.withLock { $0 }
        let tools = usage.tools.map {
            AgentStats.Usage.Tool(tool: $0.tool, bytes: $0.bytes, keptBytes: $0.keptBytes, rings: $0.rings, liveRings: $0.liveRings,
                                  runs: $0.runs, foldedRings: $0.foldedRings, rolledBytes: $0.rolledBytes, droppedBytes: $0.droppedBytes)
        }
        return try Envelope.json(AgentStats(
            node: node, instance: inventory.instance,
            usage: .init(budgetBytes: usage.budgetBytes, usedBytes: usage.usedBytes, keptBytes: usage.keptBytes, liveRings: usage.liveRings,
                         finishedRings: usage.finishedRings, foldedRings: usage.foldedRings, rolledBytes: usage.rolledBytes, droppedBytes: usage.droppedBytes, tools: tools),
            ingestedBytes: ingest.bytes, containers: ingest.containers, watches: ingest.watches,
            openFiles: OpenFileLimit.open(), diskFull: health.diskFull,
            evicted: metrics.evictedSoFar.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                AgentStats.Evicted(reason: $0.key.rawValue, runs: $0.value.runs, bytes: $0.value.bytes)
            },
            reads: admission.load.sorted { $0.key < $1.key }.map { AgentStats.ToolReads(tool: $0.key, running: $0.value.running, waiting: $0.value.waiting) },
            readsRefused: metrics.readsRefusedSoFar))
    }
}

/// A ring as the wire lists it (`AgentRing`).
enum InventoryRow {
    /// A folded run as its record says, without reading its entry: what paging runs (`JobRun`)
    /// looks at, and with `window` (its end, its first and last line's times) what choosing
    /// rings for a read does (`RingChoice`). Pod, container and counters are left empty; its
    /// records count as written and readable from 0, so that `keptRecords` is what the record
    /// keeps.
    static func brief(_ run: FoldedRun, node: String, window: Bool) -> AgentRing {
        AgentRing(
            id: run.id.description, node: node, tool: run.job.tool, kind: AgentRing.Kind(run.job.kind), name: run.job.name, run: run.run,
            segment: run.segment, namespace: nil, pod: nil, container: nil, image: nil,
            startedAt: run.startedAt.map(NanoTime.format), finishedAt: window ? NanoTime.format(run.endedAt) : nil, exitCode: run.exitCode,
            reason: run.oomKilled ? "OOMKilled" : nil, state: .finished, diskBytes: run.diskBytes, prefixCapacity: 0, suffixCapacity: 0,
            recordsWritten: run.keptRecords, bytesWritten: run.keptBytes, rolledRecords: 0, rolledBytes: 0, droppedRecords: 0,
            droppedBytes: 0, truncatedRecords: 0, firstSeq: 0, endSeq: run.keptRecords,
            firstTime: window ? run.firstTimestamp.map(NanoTime.format) : nil, lastTime: window ? run.lastTimestamp.map(NanoTime.format) : nil)
    }

    static func make(_ info: RingInfo, node: String) -> AgentRing {
        let meta = info.metadata
        return AgentRing(
            id: info.id.description, node: node, tool: meta.tool, kind: AgentRing.Kind(meta.kind), name: meta.name, run: meta.run,
            segment: meta.segment, namespace: meta.namespace, pod: meta.pod, container: meta.container, image: meta.image,
            startedAt: meta.startedAt.map(NanoTime.format), finishedAt: meta.finishedAt.map(NanoTime.format),
            exitCode: meta.exitCode, reason: meta.reason, state: info.finished ? .finished : .live,
            diskBytes: info.diskBytes, prefixCapacity: info.prefixCapacity, suffixCapacity: info.suffixCapacity,
            recordsWritten: info.counters.recordsWritten, bytesWritten: info.counters.bytesWritten,
            rolledRecords: info.counters.rolledRecords, rolledBytes: info.counters.rolledBytes,
            droppedRecords: info.counters.droppedRecords, droppedBytes: info.counters.droppedBytes,
            truncatedRecords: info.counters.truncatedRecords,
            firstSeq: info.prefixRecords.isEmpty ? info.suffixRecords.lowerBound : 0, endSeq: info.nextSeq,
            firstTime: info.firstTimestamp.map(NanoTime.format), lastTime: info.lastTimestamp.map(NanoTime.format))
    }
}

extension AgentRing.Kind {
    /// The wire's kinds are RingStore's: a kind added to the store does not build until the
    /// wire says what it is (a force-unwrapped lookup by name crashed the agent instead).
    init(_ kind: RingKind) {
        switch kind {
        case .continuous: self = .continuous
        case .scheduled: self = .scheduled
        case .oneoff: self = .oneoff
        case .webservice: self = .webservice
        case .build: self = .build
        case .custom: self = .custom
        case .activity: self = .activity
        }
    }
}
