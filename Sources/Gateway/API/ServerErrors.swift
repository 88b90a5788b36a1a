import AgentWire
import Foundation
import HTTPEnvelope
import OpenAPIRuntime

/// The generated server's failures: a request that did not decode (a parameter of the wrong
/// type, a body that is not the schema's) is a 400 that says why; a handler's own failure
/// passes through; an agent that failed a handler is a 503; anything else a 500 that names
/// the failure only (a `ServerError`'s description holds the request, headers and all).
enum ServerErrors {
    static func translate(_ error: any Error) -> EnvelopeError? {
        guard let error = error as? ServerError else { return nil }
        switch error.underlyingError {
        case let inner as EnvelopeError: return inner
        case let agent as AgentCallError: return EnvelopeError(.serviceUnavailable, agent.description)
        default: break
        }
        // With an input, the request decoded and its handler failed: not the caller's doing.
        guard error.operationInput == nil else { return EnvelopeError(.internalServerError, "internal error: \(error.underlyingError)") }
        if let parameter = invalidTypedParameter(in: error.request.path ?? "") { return EnvelopeError(.badRequest, parameter) }
        return EnvelopeError(.badRequest, "invalid request: \(reason(error.underlyingError))")
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
