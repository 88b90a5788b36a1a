import AsyncHTTPClient
import Foundation
import LogModel
import Metrics
import NIOCore
import NIOHTTP1

/// One node agent as the gateway calls it.
public struct AgentEndpoint: Sendable, Hashable {
    public var node: String
    public var url: String

    public init(node: String, url: String) {
        self.node = node
        self.url = url
    }
}

/// The agent's internal API as a typed client, with the shared token. One HTTP client for all
/// agents, with many connections per agent: follows hold theirs open, and must never queue the
/// other reads behind them.
public final class AgentClient: Sendable {
    let http: HTTPClient
    let token: String?

    /// Items read ahead of their reader, per ring read.
    public static let itemsAhead = 64
    /// Calls that failed (refused, cut, or an error answer), and how long the JSON calls take,
    /// in the gateway's metrics.
    static let errors = Counter(label: "logs_gateway_upstream_errors")
    static let duration = Timer(label: "logs_gateway_upstream_duration", preferredDisplayUnit: .seconds)

    public init(token: String?) {
        var configuration = HTTPClient.Configuration()
        // Idle connections go after 10 s: a burst of fifty reads left fifty open for a minute
        // (a descriptor on each side), and a new one to a node costs a fraction of a millisecond.
        configuration.connectionPool = .init(idleTimeout: .seconds(10), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        // An agent that refuses a connection is down: say so at once (reads warn, follows retry
        // on their own schedule) rather than retry for the whole connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.token = token
    }

    public func shutdown() async { try? await http.shutdown() }

    // MARK: the JSON calls

    /// What the agent holds, or what changed since `version`: its folded runs named by job
    /// (`AgentInventory.foldedJobs`), which an agent of a release before that ignores.
    public func inventory(_ agent: AgentEndpoint, since version: UInt64?) async throws -> AgentInventory {
        try await json(agent, AgentRoutes.rings + "?folded=by-job" + (version.map { "&since_version=\($0)" } ?? ""))
    }

    /// The folded rings of a tool that `query` asks for.
    public func foldedRings(_ agent: AgentEndpoint, tool: String, _ query: FoldedQuery) async throws -> FoldedAnswer {
        try await json(agent, AgentRoutes.foldedRings(tool: tool) + "?" + query.encoded)
    }

    /// A page of a tool's folded runs (`query.limit` of them, newest first, older than `query.before`).
    public func foldedRuns(_ agent: AgentEndpoint, tool: String, _ query: FoldedQuery) async throws -> FoldedAnswer {
        try await json(agent, AgentRoutes.foldedRuns(tool: tool) + "?" + query.encoded)
    }

    public func stats(_ agent: AgentEndpoint) async throws -> AgentStats {
        try await json(agent, AgentRoutes.stats)
    }

    /// Lines for a custom source (objects with a `message`, as the agent's push takes them).
    public func push(_ agent: AgentEndpoint, tool: String, source: String, lines: [[String: JSONValue]]) async throws -> PushAnswer {
        try await json(agent, AgentRoutes.customSource(tool: tool, name: source), method: .POST, body: Array(JSONEncoder().encode(lines)))
    }

    public func purge(_ agent: AgentEndpoint, ring: String) async throws -> PurgeAnswer {
        try await json(agent, AgentRoutes.ring(ring), method: .DELETE)
    }

    public func purge(_ agent: AgentEndpoint, tool: String) async throws -> PurgeAnswer {
        try await json(agent, AgentRoutes.tool(tool), method: .DELETE)
    }

    private func json<Answer: Decodable>(_ agent: AgentEndpoint, _ path: String, method: HTTPMethod = .GET,
                                         body: [UInt8]? = nil) async throws -> Answer {
        var request = request(agent, path, method: method)
        if let body {
            request.body = .bytes(body)
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let started = ContinuousClock.now
        defer { Self.duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        let bytes = try await call(agent) {
            let response = try await http.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            guard response.status.code < 300 else { throw AgentCallError(agent, response.status, body: bytes) }
            return bytes
        }
        return try JSONDecoder().decode(Answer.self, from: Data(bytes.readableBytesView))
    }

    // MARK: reads

    /// A bounded read's answer: its items, and where the ring ended when the read began
    /// (nil from an agent of a release before `AgentRoutes.ringEndHeader`).
    public struct Page: Sendable {
        public var items: [AgentItem]
        public var end: UInt64?

        public init(items: [AgentItem], end: UInt64?) {
            self.items = items
            self.end = end
        }
    }

    /// The items of a bounded read (`query` has `lines` or `limit`), read in the caller's task:
    /// a page. The answer is read to its end, so that its connection is kept for the next call
    /// (leaving it half read closed it: a new connection per page).
    public func page(_ agent: AgentEndpoint, ring: String, _ query: RingReadQuery) async throws -> Page {
        try await call(agent) {
            let response = try await logs(agent, ring: ring, query, accept: "application/x-ndjson", timeout: .seconds(60))
            var splitter = AgentItemSplitter()
            var items: [AgentItem] = []
            for try await chunk in response.body {
                items += try splitter.items(in: chunk).lazy.filter { $0.type != .heartbeat }
            }
            try splitter.finish()
            return Page(items: items, end: response.headers.first(name: AgentRoutes.ringEndHeader).flatMap { UInt64($0) })
        }
    }

    /// A read's items as the agent sends them, at the reader's pace (the agent's answer waits
    /// while a few are unread); heartbeats included. A follow stays open for as long as its
    /// reader does (bounded at a day).
    public func items(_ agent: AgentEndpoint, ring: String, _ query: RingReadQuery) -> BoundedStream<AgentItem> {
        relay(agent, { [self] in try await logs(agent, ring: ring, query, accept: "application/x-ndjson", timeout: .hours(24)) },
              cut: { chunk, splitter in try splitter.items(in: chunk) }, end: { try $0.finish() })
    }

    /// A read's items a chunk of the agent's answer at a time, its heartbeats left out: the
    /// path of big NDJSON downloads of one ring, at background priority, as `text` is for text.
    public func itemChunks(_ agent: AgentEndpoint, ring: String, _ query: RingReadQuery) -> BoundedStream<[AgentItem]> {
        relay(agent, { [self] in try await logs(agent, ring: ring, query, accept: "application/x-ndjson", timeout: .hours(24)) },
              priority: .background, cut: { chunk, splitter in [try splitter.items(in: chunk).filter { $0.type != .heartbeat }] },
              end: { try $0.finish() })
    }

    /// A ring's lines as `text/plain`, handed on chunk by chunk as they come, nothing decoded:
    /// the path of big downloads of one ring. Returns once the agent has answered, so that its
    /// refusal (a `429` still after the tries) is the caller's answer, not a body cut short.
    public func text(_ agent: AgentEndpoint, ring: String, _ query: RingReadQuery) async throws -> BoundedStream<ArraySlice<UInt8>> {
        let response = try await call(agent) { try await logs(agent, ring: ring, query, accept: "text/plain", timeout: .hours(24)) }
        return relay(agent, { response }, priority: .background, cut: { chunk, _ in [ArraySlice(chunk.readableBytesView)] }, end: { _ in })
    }

    /// An answer's body handed on, cut into elements, at the reader's pace; a download's at
    /// background priority (its own threads, niced, on Linux), so that it yields to follows.
    private func relay<Element: Sendable>(_ agent: AgentEndpoint, _ answer: @escaping @Sendable () async throws -> HTTPClientResponse,
                                          priority: TaskPriority? = nil,
                                          cut: @escaping @Sendable (ByteBuffer, inout AgentItemSplitter) throws -> [Element],
                                          end: @escaping @Sendable (AgentItemSplitter) throws -> Void)
        -> BoundedStream<Element> {
        let (elements, sender) = BoundedStream<Element>.make(capacity: Self.itemsAhead)
        let task = Task(priority: priority) {
            do {
                try await call(agent) {
                    let response = try await answer()
                    var splitter = AgentItemSplitter()
                    for try await chunk in response.body {
                        for element in try cut(chunk, &splitter) {
                            guard await sender.send(element) else { return }
                        }
                    }
                    try end(splitter)
                }
                sender.finish()
            } catch {
                sender.finish(throwing: error)
            }
        }
        elements.onTermination { task.cancel() }
        return elements
    }

    /// A ring read's answer. A `429` (the tool has as many reads running on that node as it may)
    /// is tried again after its `Retry-After`, a few times: the reads of one merged page are
    /// many, and each is short.
    private func logs(_ agent: AgentEndpoint, ring: String, _ query: RingReadQuery, accept: String,
                      timeout: TimeAmount) async throws -> HTTPClientResponse {
        var request = request(agent, AgentRoutes.ringLogs(ring) + "?" + query.encoded)
        request.headers.add(name: "Accept", value: accept)
        var attempts = 1
        while true {
            let response = try await http.execute(request, timeout: timeout)
            if response.status == .ok { return response }
            let failure = AgentCallError(agent, response.status, body: try await response.body.collect(upTo: 1 << 20))
            guard response.status == .tooManyRequests, attempts < Self.busyAttempts else { throw failure }
            attempts += 1
            let seconds = response.headers.first(name: "Retry-After").flatMap(Int.init) ?? 1
            try await Task.sleep(for: .seconds(min(max(seconds, 1), 5)))
        }
    }

    /// Tries of a ring read that its agent answers `429`: a tool's reads beyond its share on a
    /// node queue here, a second at a time, rather than fail.
    static let busyAttempts = 5

    private func request(_ agent: AgentEndpoint, _ path: String, method: HTTPMethod = .GET) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: agent.url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// Runs a call, counting its failures; one that never got an answer says the agent is unreachable.
    private func call<T>(_ agent: AgentEndpoint, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AgentCallError {
            Self.errors.increment()
            throw error
        } catch let error as AgentItem.Malformed {
            Self.errors.increment()
            throw AgentCallError(node: agent.node, status: 200, message: error.description)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            Self.errors.increment()
            throw AgentCallError(node: agent.node, status: nil, message: "\(error)")
        }
    }
}

/// A call that failed: the agent's answer (status and the first error of its envelope), or none.
public struct AgentCallError: Error, CustomStringConvertible {
    public var node: String
    /// nil when the agent never answered.
    public var status: Int?
    public var message: String

    public var description: String {
        status.map { "\(node) answered \($0): \(message)" } ?? "\(node) is unreachable: \(message)"
    }

    public init(node: String, status: Int?, message: String) {
        self.node = node
        self.status = status
        self.message = message
    }

    init(_ agent: AgentEndpoint, _ status: HTTPResponseStatus, body: ByteBuffer) {
        let envelope = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body.readableBytesView))
        self.init(node: agent.node, status: Int(status.code), message: envelope?.messages.error.first ?? "\(status)")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
