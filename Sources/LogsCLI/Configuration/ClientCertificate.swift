import Foundation
import X509

/// The client certificate in use, and whose it is: a tool's (`O=toolforge`) names the tool
/// the commands act on unless `--tool` says otherwise.
package struct ClientCertificate {
    package var commonName: String?
    package var organization: String?

    package init(pemFile path: String) throws(ConfigurationError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ConfigurationError(description: "\(path): not a PEM certificate (\(error))")
        }
        for attribute in certificate.subject.flatMap({ $0 }) {
            switch attribute.type {
            case .RDNAttributeType.commonName: commonName = String(attribute.value)
            case .RDNAttributeType.organizationName: organization = String(attribute.value)
            default: continue
            }
        }
    }

    /// The tool a tool's certificate belongs to; nil for a person's.
    package var tool: String? { organization == "toolforge" ? commonName : nil }
}
