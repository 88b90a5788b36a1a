import Foundation

/// A file that holds a secret, such as a bearer token: read whole, surrounding white space
/// trimmed. A missing, unreadable or empty file is an error that names the flag and the path.
public enum SecretFile {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(_ path: String, flag: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "there is no such file"
            throw Unusable(description: "\(flag): \(path): \(why)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw Unusable(description: "\(flag): \(path) is not UTF-8 text") }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw Unusable(description: "\(flag): \(path) is empty") }
        return secret
    }
}
