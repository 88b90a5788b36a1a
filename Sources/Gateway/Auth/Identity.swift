import Foundation

/// Who is calling, as the platform says it: a tool's own certificate, a person, or one of the
/// platform's services (which may write reserved sources).
public enum Identity: Sendable, Equatable, CustomStringConvertible {
    case tool(String)
    case user(String)
    case service(String)

    /// The identity of the request being handled; set by the identity middleware.
    @TaskLocal static var current: Identity?

    public var description: String {
        switch self {
        case let .tool(name): "tool:\(name)"
        case let .user(name): "user:\(name)"
        case let .service(name): "service:\(name)"
        }
    }

    /// Parses a subject DN as the platform's front proxy passes it (`CN=mytool,O=toolforge`).
    static func fromSubject(_ subject: String, organizations: SubjectOrganizations = SubjectOrganizations()) -> Identity? {
        var commonNames: [String] = []
        var organizationNames: [String] = []
        for part in subject.split(whereSeparator: { $0 == "," || $0 == "/" }) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0].uppercased() {
            case "CN": commonNames.append(pair[1])
            case "O": organizationNames.append(pair[1])
            default: continue
            }
        }
        return organizations.identity(commonNames: commonNames, organizations: organizationNames)
    }
}

/// Which subject organisation makes a certificate a tool's and which a person's.
public struct SubjectOrganizations: Sendable {
    public var tool: String
    public var user: String

    public init(tool: String = "toolforge", user: String = "toolforge-users") {
        self.tool = tool
        self.user = user
    }

    /// Exactly one CN and one O, and the organisation says what kind of identity it is.
    func identity(commonNames: [String], organizations: [String]) -> Identity? {
        guard commonNames.count == 1, organizations.count == 1, let name = commonNames.first, !name.isEmpty else { return nil }
        switch organizations[0] {
        case tool: return .tool(name)
        case user: return .user(name)
        default: return nil
        }
    }
}
