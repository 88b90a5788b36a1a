import NIOSSL

/// How the gateway learns who is calling.
public enum Authentication: Sendable {
    /// Behind the platform's front proxy, which verified the client certificate: identity headers
    /// are believed from these address ranges only.
    case proxy(trustedProxies: [CIDR])
    /// The gateway terminates TLS itself and reads the identity off the verified client certificate.
    case mutualTLS(MutualTLSFiles)
}

/// The PEM files of `--auth mtls`.
public struct MutualTLSFiles: Sendable {
    public var certificate: String
    public var key: String
    /// The CA that signs the tools' and users' certificates.
    public var clientCA: String

    public init(certificate: String, key: String, clientCA: String) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }

    /// TLS 1.2 and up; a client certificate is verified against the client CA when one is
    /// presented, and not demanded, so that health checks and metrics scrapes need none.
    func serverConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
        configuration.certificateVerification = .optionalVerification
        return configuration
    }
}
