import Foundation
import Hummingbird
import LogModel

/// An error answered as the JSON envelope, `{"messages": {"info": [], "warning": [], "error": ["…"]}}`.
struct EnvelopeError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try Envelope.json(EnvelopeBody(messages: Messages(error: [message])), status: status)
    }
}

private struct EnvelopeBody: Encodable {
    var messages: Messages
}

enum Envelope {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every failure, ours or the framework's (no such route, body too large), into the
/// envelope with the right status, so that a client always finds its error in `messages.error`.
struct EnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as EnvelopeError {
            throw error
        } catch let error as HTTPError {
            throw EnvelopeError(error.status, error.body ?? error.status.reasonPhrase)
        } catch let error as HTTPResponseError {
            throw EnvelopeError(error.status, error.status.reasonPhrase)
        } catch {
            throw EnvelopeError(.internalServerError, "\(error)")
        }
    }
}
