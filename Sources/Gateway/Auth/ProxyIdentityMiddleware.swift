import HTTPEnvelope
import HTTPTypes
import Hummingbird
import NIOCore

/// Takes the caller's identity from the platform's front proxy (`x-toolforge-tool`,
/// `x-toolforge-user`, or `ssl-client-subject-dn` in older deployments), believed only from
/// peers in the trusted ranges: from anywhere else the headers are ignored, so the request has
/// no identity (401). The identity is handed to the generated handlers as a task-local, since
/// they do not see the request.
struct ProxyIdentityMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let trustedProxies: [CIDR]
    let organizations: SubjectOrganizations

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let identity = try trusted(context.remoteAddress) ? Self.identity(from: request.headers, organizations: organizations) : nil
        return try await Identity.$current.withValue(identity) { try await next(request, context) }
    }

    private func trusted(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return trustedProxies.contains { $0.contains(ip) }
    }

    /// Who the headers say calls (nil: nobody), or an error when they contradict each other.
    static func identity(from headers: HTTPFields, organizations: SubjectOrganizations) throws -> Identity? {
        func single(_ name: String) throws -> String? {
            let values = headers[values: HTTPField.Name(name)!]
            guard values.count <= 1 else { throw EnvelopeError(.badRequest, "more than one \(name) header") }
            return values.first
        }
        let tool = try single("x-toolforge-tool")
        let user = try single("x-toolforge-user")
        let subject = try single("ssl-client-subject-dn").map { dn -> Identity in
            guard let identity = Identity.fromSubject(dn, organizations: organizations) else { throw EnvelopeError(.unauthorized, "the client certificate's subject is not a tool's or a user's: \(dn)") }
            return identity
        }
        var found: [Identity] = []
        if let tool { found.append(.tool(tool)) }
        if let user { found.append(user.hasPrefix("service:") ? .service(String(user.dropFirst(8))) : .user(user)) }
        if let subject { found.append(subject) }
        // A tool acting for a person names both; the tool is who reads. Any other mix must agree.
        if let tool, user != nil, subject == nil || subject == .tool(tool) { return .tool(tool) }
        guard Set(found.map(\.description)).count <= 1 else {
            throw EnvelopeError(.badRequest, "conflicting identity headers: \(found.map(\.description).joined(separator: ", "))")
        }
        return found.first
    }
}
