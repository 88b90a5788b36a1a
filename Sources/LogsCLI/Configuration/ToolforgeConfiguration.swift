import Foundation
import Yams

/// Where the logs API is, found the way the platform's other clients find their API gateway:
/// `/etc/toolforge/common.yaml`, then `~/.toolforge.yaml`, then `~/.config/toolforge.yaml`
/// (`api_gateway.url`; later files win), then `TOOL_TOOLFORGE_API_URL`; a `--url` flag wins
/// over all of them. The platform's gateway routes `/logs/v1/…` to this service.
package struct ToolforgeConfiguration: Equatable {
    package var apiGatewayURL: String?

    package init(apiGatewayURL: String? = nil) {
        self.apiGatewayURL = apiGatewayURL
    }

    package static func files(home: String) -> [String] {
        ["/etc/toolforge/common.yaml", home + "/.toolforge.yaml", home + "/.config/toolforge.yaml"]
    }

    package static func load(files: [String], environment: [String: String]) throws(ConfigurationError) -> ToolforgeConfiguration {
        var configuration = ToolforgeConfiguration()
        for path in files {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let document: Any?
            do {
                document = try Yams.load(yaml: text)
            } catch {
                throw ConfigurationError(description: "\(path): not YAML: \(error)")
            }
            guard let gateway = (document as? [String: Any])?["api_gateway"] as? [String: Any], let url = gateway["url"] else { continue }
            guard let text = url as? String else { throw ConfigurationError(description: "\(path): api_gateway.url must be a string") }
            configuration.apiGatewayURL = text
        }
        if let url = environment["TOOL_TOOLFORGE_API_URL"], !url.isEmpty { configuration.apiGatewayURL = url }
        return configuration
    }

    /// The logs API's base URL: the flag, or the API gateway's `/logs`.
    package func logsURL(flag: String?) throws(ConfigurationError) -> String {
        let base: String
        if let flag {
            base = flag
        } else if let apiGatewayURL {
            base = apiGatewayURL.hasSuffix("/") ? apiGatewayURL + "logs" : apiGatewayURL + "/logs"
        } else {
            throw ConfigurationError(description: "no API address: pass --url, set TOOLFORGE_LOGS_URL, or set api_gateway.url in ~/.toolforge.yaml or TOOL_TOOLFORGE_API_URL")
        }
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else {
            throw ConfigurationError(description: "the API address must be an http(s) URL, not \(base)")
        }
        return base.hasSuffix("/") ? String(base.dropLast()) : base
    }
}

package struct ConfigurationError: Error, CustomStringConvertible {
    package var description: String

    package init(description: String) {
        self.description = description
    }
}
