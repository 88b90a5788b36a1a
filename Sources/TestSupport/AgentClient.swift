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

    /// The error text of a JSON envelope.
    public var errors: [String] { (try? json(Envelope.self))?.messages.error ?? [] }

    struct Envelope: Decodable { var messages: Messages }
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
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        var items: [LogItem] = []
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                items.append(try JSONDecoder().decode(LogItem.self, from: Data(pending[..<newline])))
                pending.removeSubrange(...newline)
            }
            if until(items) { break }
        }
        return items
    }
}
