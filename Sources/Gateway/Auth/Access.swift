import HTTPEnvelope
import Foundation

/// Who may do what: a tool reads only itself; a person reads the tools it is a member of;
/// service identities write what their path pattern allows (like the platform gateway's
/// superusers); admins see usage and purge, and read no log content.
public struct AccessPolicy: Sendable {
    public var members: Members
    public var admins: Set<String>
    /// Service name → a regular expression its request paths must match.
    public var services: [String: String]
    /// Custom source names only service identities may write (platform events).
    public var reservedSources: Set<String>

    public init(members: Members, admins: Set<String>, services: [String: String], reservedSources: Set<String>) {
        self.members = members
        self.admins = admins
        self.services = services
        self.reservedSources = reservedSources
    }

    func caller() throws -> Identity {
        guard let identity = Identity.current else {
            throw EnvelopeError(.unauthorized, "no identity: present a tool or user certificate through the API gateway")
        }
        return identity
    }

    /// The caller may read `tool`'s logs.
    @discardableResult
    func requireReader(of tool: String) throws -> Identity {
        try requireOwner(of: tool, to: "read")
    }

    /// The tool itself or one of its members, reading or writing.
    private func requireOwner(of tool: String, to verb: String) throws -> Identity {
        let identity = try caller()
        switch identity {
        case let .tool(name) where name == tool: return identity
        case let .user(name) where members.isMember(name, of: tool): return identity
        case .tool: throw EnvelopeError(.forbidden, "tool certificates may \(verb) only their own tool's logs, not \(tool)'s")
        case let .user(name): throw EnvelopeError(.forbidden, "\(name) is not a member of \(tool)")
        case let .service(name): throw EnvelopeError(.forbidden, "service \(name) may not \(verb) logs")
        }
    }

    /// The caller may push to `source` of `tool` (request path `path`).
    func requireWriter(of tool: String, source: String, path: String) throws -> Identity {
        let identity = try caller()
        if case let .service(name) = identity {
            guard let pattern = services[name], path.range(of: pattern, options: .regularExpression) != nil else {
                throw EnvelopeError(.forbidden, "service \(name) may not write \(path)")
            }
            return identity
        }
        guard !reservedSources.contains(source) else {
            throw EnvelopeError(.forbidden, "\(source) is reserved for the platform's services")
        }
        return try requireOwner(of: tool, to: "write")
    }

    @discardableResult
    func requireAdmin() throws -> Identity {
        let identity = try caller()
        guard case let .user(name) = identity, admins.contains(name) else {
            throw EnvelopeError(.forbidden, "\(identity) is not an operator")
        }
        return identity
    }
}
