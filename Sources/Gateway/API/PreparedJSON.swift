import HTTPEnvelope
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// A JSON answer that a handler wrote itself from bytes it already had: a page of log items,
/// each passed on as the agent wrote it. The generated server can only encode typed values, and
/// decoding each item from the agent to encode it again was most of a small read's cost. So the
/// handler leaves the page's bytes here and answers with an empty typed value in its place,
/// which `PreparedJSONMiddleware` swaps for them. The bytes are of the spec's schema all the
/// same: the API fuzz run and the platform's clients check them.
final class PreparedJSON: Sendable {
    @TaskLocal static var current: PreparedJSON?
    private let bytes = Mutex<[UInt8]?>(nil)

    /// Answers the request being handled with `bytes`.
    static func answer(_ bytes: [UInt8]) throws {
        guard let current else { throw EnvelopeError(.internalServerError, "a prepared answer outside PreparedJSONMiddleware") }
        current.bytes.withLock { $0 = bytes }
    }

    fileprivate func take() -> [UInt8]? { bytes.withLock { $0.take() } }
}

/// Gives each handler a place for a prepared answer, and sends it when one was left.
struct PreparedJSONMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?))
        async throws -> (HTTPResponse, HTTPBody?) {
        let prepared = PreparedJSON()
        var (response, answer) = try await PreparedJSON.$current.withValue(prepared) { try await next(request, body, metadata) }
        if let bytes = prepared.take() {
            response.headerFields[.contentLength] = nil
            answer = HTTPBody(bytes)
        }
        return (response, answer)
    }
}
