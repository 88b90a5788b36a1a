import Foundation
import Hummingbird
import LogModel

/// A failure the caller is told about: its status, and the envelope every answer has,
/// `{"messages": {"info": [], "warning": [...], "error": [message]}}`.
public struct EnvelopeError: Error, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public var warnings: [String]
    /// For 405: the methods the path has.
    public var allow: String?
    /// For 429 and 503: when to try again, in seconds.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, warnings: [String] = [], allow: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.warnings = warnings
        self.allow = allow
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    /// The failure as an answer.
    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let allow { headers[.allow] = allow }
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        let body = (try? Envelope.encoder.encode(Body(messages: Messages(warning: warnings, error: [message])))) ?? Data()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct Body: Encodable {
        var messages: Messages
    }
}

/// Turns every failure into the envelope with the right status, so that a client always finds
/// its error in `messages.error`: an `EnvelopeError` as it is, what `translate` makes of a
/// service's own kinds of failure, the framework's (no such route, a body too large) with
/// their status, and anything else as a 500.
public struct EnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let translate: @Sendable (any Error) -> EnvelopeError?

    public init(translate: @escaping @Sendable (any Error) -> EnvelopeError? = { _ in nil }) {
        self.translate = translate
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return envelope(for: error).response
        }
    }

    func envelope(for error: any Error) -> EnvelopeError {
        if let error = error as? EnvelopeError { return error }
        if let translated = translate(error) { return translated }
        switch error {
        case let error as HTTPError: return EnvelopeError(error.status, error.body ?? error.status.reasonPhrase)
        case let error as HTTPResponseError: return EnvelopeError(error.status, error.status.reasonPhrase)
        default: return EnvelopeError(.internalServerError, "internal error: \(error)")
        }
    }
}

/// JSON answers, compact and in a stable order.
public enum Envelope {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
