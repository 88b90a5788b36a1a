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
        case let agent as AgentCallError where agent.status == 404:
            // The ring went (purged, or evicted) after the index last saw it.
            return EnvelopeError(.notFound, agent.description)
        case let agent as AgentCallError where agent.status == 429:
            // The tool's reads on that node are all taken, still after the client's tries.
            return EnvelopeError(.tooManyRequests, agent.description, retryAfter: 1)
        case let agent as AgentCallError: return EnvelopeError(.serviceUnavailable, agent.description)
        default: break
        }
        // With an input, the request decoded and its handler failed: not the caller's doing.
        guard error.operationInput == nil else { return EnvelopeError(.internalServerError, "internal error: \(error.underlyingError)") }
        if let parameter = invalidTypedParameter(in: error.request.path ?? "") { return EnvelopeError(.badRequest, parameter) }
        return EnvelopeError(.badRequest, "invalid request: \(reason(error.underlyingError))")
    }

    /// The generated decoder does not say which query parameter failed; the typed ones are few,
    /// and their values are the spec's (the generated enums').
    static func invalidTypedParameter(in path: String) -> String? {
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let value = parts[1].removingPercentEncoding ?? parts[1]
            switch parts[0] {
            case "lines" where Int(value) == nil, "limit_bytes" where Int(value) == nil:
                return "\(parts[0]): must be a whole number, not \(value)"
            case "follow" where Bool(value) == nil:
                return "follow: must be true or false, not \(value)"
            case "direction" where Components.Parameters.Direction(rawValue: value) == nil:
                return "direction: must be \(choices(Components.Parameters.Direction.self)), not \(value)"
            case "stream" where Components.Parameters.Stream(rawValue: value) == nil:
                return "stream: must be \(choices(Components.Parameters.Stream.self)), not \(value)"
            default:
                continue
            }
        }
        return nil
    }

    /// `a, b or c`: an enum's values as the messages name them.
    static func choices<Value: CaseIterable & RawRepresentable>(_: Value.Type) -> String where Value.RawValue == String {
        let values = Value.allCases.map(\.rawValue)
        return values.count < 2 ? values.joined() : values.dropLast().joined(separator: ", ") + " or " + values.last!
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
