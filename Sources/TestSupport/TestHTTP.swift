import AgentWire
import AsyncHTTPClient
import Foundation
import LogModel
import NIOCore
import NIOHTTP1

/// A plain HTTP client for tests: status, headers and body of one request.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body))
    }

    /// NDJSON lines as log items.
    public func items() throws -> [LogItem] {
        try text.split(separator: "\n").map { try JSONDecoder().decode(LogItem.self, from: Data($0.utf8)) }
    }

    /// An agent's read, its lines as the gateway reads them.
    public func agentItems() throws -> [AgentItem] {
        try body.split(separator: UInt8(ascii: "\n")).map { try AgentItem(line: Array($0)) }
    }

    /// This response if it is a 200, else an error that says what came instead.
    public func ok() throws -> TestHTTPResponse {
        guard status == 200 else { throw UnexpectedAnswer(status: status, text: text) }
        return self
    }

    /// The error text of a JSON envelope.
    public var errors: [String] { (try? json(Envelope.self))?.messages.error ?? [] }

    struct Envelope: Decodable { var messages: Messages }
}

/// An answer other than the 200 a test needed.
public struct UnexpectedAnswer: Error, CustomStringConvertible {
    public var status: Int
    public var text: String
    public var description: String { "answered \(status): \(text.prefix(500))" }
}

public enum TestHTTP {
    public static func request(_ url: String, method: HTTPMethod = .GET, headers: [String: String] = [:],
                               body: [UInt8]? = nil, timeout: Duration = .seconds(20)) async throws -> TestHTTPResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return TestHTTPResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                                body: Array(buffer: bytes))
    }

    /// Reads an NDJSON stream until `until` says stop (or the timeout), one item at a time.
    public static func follow(_ url: String, headers: [String: String] = [:], timeout: Duration = .seconds(20),
                              until: @Sendable ([LogItem]) -> Bool) async throws -> [LogItem] {
        try await follow(url, headers: headers, timeout: timeout, decode: { try JSONDecoder().decode(LogItem.self, from: Data($0)) },
                         until: until)
    }

    /// Reads an agent's follow until `until` says stop (or the timeout), one item at a time.
    public static func followAgent(_ url: String, headers: [String: String] = [:], timeout: Duration = .seconds(20),
                                   until: @Sendable ([AgentItem]) -> Bool) async throws -> [AgentItem] {
        try await follow(url, headers: headers, timeout: timeout, decode: { try AgentItem(line: $0) }, until: until)
    }

    private static func follow<Item>(_ url: String, headers: [String: String], timeout: Duration, decode: ([UInt8]) throws -> Item,
                                     until: @Sendable ([Item]) -> Bool) async throws -> [Item] {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        var items: [Item] = []
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                items.append(try decode(Array(pending[..<newline])))
                pending.removeSubrange(...newline)
            }
            if until(items) { break }
        }
        return items
    }
}
