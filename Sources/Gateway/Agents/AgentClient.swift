import AsyncHTTPClient
import Foundation
import LogModel
import NIOCore
import NIOHTTP1

/// One node agent as the gateway calls it: the internal API, with the shared token.
public struct AgentEndpoint: Sendable, Hashable {
    public var node: String
    public var url: String

    public init(node: String, url: String) {
        self.node = node
        self.url = url
    }
}

/// Calls agents. One HTTP client for all, with many connections per agent: follows hold theirs
/// open, and must never queue the other reads behind them.
final class AgentClient: Sendable {
    let http: HTTPClient
    let token: String?

    /// Items decoded ahead of their reader, per ring read.
    static let itemsAhead = 64

    init(token: String?) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.token = token
    }

    func shutdown() async { try? await http.shutdown() }

    private func request(_ agent: AgentEndpoint, _ path: String, method: HTTPMethod = .GET) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: agent.url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    func inventory(_ agent: AgentEndpoint, since: UInt64?) async throws -> AgentInventory {
        let query = since.map { "?since_version=\($0)" } ?? ""
        return try await json(agent, "/internal/v1/rings" + query, as: AgentInventory.self)
    }

    func json<T: Decodable>(_ agent: AgentEndpoint, _ path: String, method: HTTPMethod = .GET, body: [UInt8]? = nil, as type: T.Type) async throws -> T {
        var request = request(agent, path, method: method)
        if let body {
            request.body = .bytes(body)
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let started = ContinuousClock.now
        defer {
            let elapsed = (ContinuousClock.now - started).components
            GatewayMetrics.upstreamDuration.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(30))
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            GatewayMetrics.upstreamErrors.increment()
            throw error
        }
        guard response.status.code < 300 else {
            GatewayMetrics.upstreamErrors.increment()
            throw AgentCallError(agent, response.status, body: bytes)
        }
        return try JSONDecoder().decode(T.self, from: Data(buffer: bytes))
    }

    /// A ring's lines as the agent writes them in `text/plain`, passed on as they come with
    /// nothing decoded: the path of big downloads of one ring.
    func text(_ agent: AgentEndpoint, ring: String, query: String) -> BoundedStream<ArraySlice<UInt8>> {
        logs(agent, ring: ring, query: query, accept: "text/plain")
    }

    /// The log items of a ring, as the agent streams them (NDJSON), one at a time.
    /// A ring's items from its agent, decoded as they come; read at the reader's pace (the
    /// agent's response waits while a few items are unread).
    func items(_ agent: AgentEndpoint, ring: String, query: String) -> BoundedStream<LogItem> {
        let body = logs(agent, ring: ring, query: query, accept: "application/x-ndjson")
        let (items, sender) = BoundedStream<LogItem>.make(capacity: AgentClient.itemsAhead)
        let task = Task {
            do {
                let decoder = JSONDecoder()
                var pending: [UInt8] = []
                for try await chunk in body {
                    pending.append(contentsOf: chunk)
                    var start = 0
                    while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                        guard await sender.send(try decoder.decode(LogItem.self, from: Data(pending[start..<newline]))) else { return }
                        start = newline + 1
                    }
                    pending.removeFirst(start)
                }
                sender.finish()
            } catch {
                sender.finish(throwing: error)
            }
        }
        items.onTermination { task.cancel() }
        return items
    }

    /// A ring's logs endpoint, its body handed on chunk by chunk as the agent writes it. A
    /// follow stays open for as long as its reader does (bounded at a day).
    private func logs(_ agent: AgentEndpoint, ring: String, query: String, accept: String) -> BoundedStream<ArraySlice<UInt8>> {
        var logs = request(agent, "/internal/v1/rings/\(ring)/logs?\(query)")
        logs.headers.add(name: "Accept", value: accept)
        let (request, http) = (logs, http)
        let (chunks, sender) = BoundedStream<ArraySlice<UInt8>>.make(capacity: 4)
        let task = Task {
            do {
                let response = try await http.execute(request, timeout: .hours(24))
                guard response.status == .ok else {
                    throw AgentCallError(agent, response.status, body: try await response.body.collect(upTo: 1 << 20))
                }
                for try await chunk in response.body {
                    guard await sender.send(ArraySlice(chunk.readableBytesView)) else { return }
                }
                sender.finish()
            } catch {
                sender.finish(throwing: error)
            }
        }
        chunks.onTermination { task.cancel() }
        return chunks
    }
}

struct ErrorEnvelope: Decodable {
    var messages: Messages
}

struct AgentCallError: Error, CustomStringConvertible {
    var node: String
    var status: Int
    var message: String
    var description: String { "\(node) answered \(status): \(message)" }
}

extension AgentCallError {
    /// An agent's error answer: the first error of its envelope, or the status when it has none.
    init(_ agent: AgentEndpoint, _ status: HTTPResponseStatus, body: ByteBuffer) {
        let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: body))
        self.init(node: agent.node, status: Int(status.code), message: envelope?.messages.error.first ?? "\(status)")
    }
}
