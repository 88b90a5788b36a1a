import HTTPEnvelope
import Hummingbird
import NIOSSL
import X509

/// Takes the caller's identity from the client certificate that TLS verified against the client
/// CA: `O=toolforge, CN=<tool>` is a tool, `O=toolforge-users, CN=<user>` a person. A connection
/// without a certificate has no identity (401 where one is needed; health and metrics stay open),
/// and a verified certificate of any other subject is refused.
struct CertificateIdentityMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let organizations: SubjectOrganizations

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let identity = try await context.channel.nioSSL_peerCertificate().get().map(identity)
        return try await Identity.$current.withValue(identity) { try await next(request, context) }
    }

    private func identity(of peer: NIOSSLCertificate) throws -> Identity {
        let certificate = try Certificate(derEncoded: peer.toDERBytes())
        var commonNames: [String] = []
        var organizationNames: [String] = []
        for attribute in certificate.subject.flatMap({ $0 }) {
            switch attribute.type {
            case .RDNAttributeType.commonName: commonNames += String(attribute.value).map { [$0] } ?? []
            case .RDNAttributeType.organizationName: organizationNames += String(attribute.value).map { [$0] } ?? []
            default: continue
            }
        }
        guard let identity = organizations.identity(commonNames: commonNames, organizations: organizationNames) else {
            throw EnvelopeError(.unauthorized, "the client certificate's subject is not a tool's or a user's: \(certificate.subject)")
        }
        return identity
    }
}
