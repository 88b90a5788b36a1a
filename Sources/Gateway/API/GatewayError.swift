import Foundation
import Hummingbird
import LogModel
import OpenAPIRuntime

/// A failure the caller is told about, with its HTTP status.
struct GatewayError: Error, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String
    var warnings: [String] = []
    /// For 405: the methods the path has.
    var allow: String?

    init(_ status: HTTPResponse.Status, _ message: String, warnings: [String] = [], allow: String? = nil) {
        self.status = status
        self.message = message
        self.warnings = warnings
        self.allow = allow
    }

    var description: String { message }
}

/// Every failure becomes the JSON envelope with the right status: ours, the generated code's
/// (a parameter that does not decode is the caller's mistake: 400), and the framework's.
struct EnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message, warnings) = Self.describe(error)
            let body = ErrorBody(messages: Messages(warning: warnings, error: [message]))
            var headers: HTTPFields = [.contentType: "application/json"]
            if let allow = (error as? GatewayError)?.allow { headers[.allow] = allow }
            return Response(status: status, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(body))))
        }
    }

    static func describe(_ error: Error) -> (HTTPResponse.Status, String, [String]) {
        switch error {
        case let error as GatewayError:
            return (error.status, error.message, error.warnings)
        case let error as ServerError:
            if let inner = error.underlyingError as? GatewayError { return (inner.status, inner.message, inner.warnings) }
            if let parameter = Self.invalidTypedParameter(in: error.request.path ?? "") {
                return (.badRequest, parameter, [])
            }
            if error.underlyingError is DecodingError || "\(error.underlyingError)".contains("decod") {
                return (.badRequest, "invalid request: \(Self.reason(error.underlyingError))", [])
            }
            return (.badRequest, "invalid request: \(error.causeDescription)", [])
        case let error as HTTPError:
            return (error.status, error.body ?? error.status.reasonPhrase, [])
        case let error as HTTPResponseError:
            return (error.status, error.status.reasonPhrase, [])
        default:
            return (.internalServerError, "internal error: \(error)", [])
        }
    }

    /// The generated decoder does not say which query parameter failed; the typed ones are few.
    static func invalidTypedParameter(in path: String) -> String? {
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "lines" where Int(parts[1]) == nil, "limit_bytes" where Int(parts[1]) == nil:
                return "\(parts[0]): must be a whole number, not \(parts[1].removingPercentEncoding ?? parts[1])"
            case "follow" where !["true", "false"].contains(parts[1]):
                return "follow: must be true or false, not \(parts[1].removingPercentEncoding ?? parts[1])"
            case "direction" where !["oldest_first", "newest_first"].contains(parts[1]):
                return "direction: must be oldest_first or newest_first, not \(parts[1].removingPercentEncoding ?? parts[1])"
            case "stream" where !["all", "stdout", "stderr"].contains(parts[1]):
                return "stream: must be all, stdout or stderr, not \(parts[1].removingPercentEncoding ?? parts[1])"
            default:
                continue
            }
        }
        return nil
    }

    private static func reason(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case let .dataCorrupted(context), let .typeMismatch(_, context), let .valueNotFound(_, context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        case let .keyNotFound(key, _):
            return "\(key.stringValue) is missing"
        @unknown default:
            return "\(decoding)"
        }
    }
}

private struct ErrorBody: Encodable {
    var messages: Messages
}
