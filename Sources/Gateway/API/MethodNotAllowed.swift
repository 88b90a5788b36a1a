import HTTPEnvelope
import Foundation
import Hummingbird

/// Answers 405 (with `Allow`) for a path of the API asked with a method it does not have: the
/// router alone would say 404, as if the path did not exist.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each API path as a pattern, with its methods.
    let routes: [(pattern: NSRegularExpression, methods: [String])]

    /// From the spec's `paths`: `{name}` matches one path segment.
    init(spec: [String: Any]) {
        let paths = spec["paths"] as? [String: [String: Any]] ?? [:]
        routes = paths.compactMap { path, operations in
            let pattern = "^" + path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "[^/]+", options: .regularExpression) + "$"
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
            return (regex, operations.keys.map { $0.uppercased() }.sorted())
        } + [(try! NSRegularExpression(pattern: "^/openapi.json$"), ["GET"])]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let range = NSRange(path.startIndex..., in: path)
        if let route = routes.first(where: { $0.pattern.firstMatch(in: path, range: range) != nil }),
           !route.methods.contains(request.method.rawValue), !(request.method == .head && route.methods.contains("GET")) {
            throw EnvelopeError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(path); use \(route.methods.joined(separator: ", "))",
                               allow: route.methods.joined(separator: ", "))
        }
        return try await next(request, context)
    }
}
