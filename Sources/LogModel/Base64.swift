import Foundation

/// Base64 (RFC 4648) through Foundation: the standard alphabet with padding for messages that
/// are not UTF-8, and the URL- and filename-safe one without padding for cursors in URLs.
/// Decoding takes either with or without padding, and nothing from the other alphabet.
public enum Base64 {
    public static func encode(_ bytes: [UInt8], urlSafe: Bool = false) -> String {
        let standard = Data(bytes).base64EncodedString()
        guard urlSafe else { return standard }
        return String(standard.prefix { $0 != "=" }.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    public static func decode(_ text: String, urlSafe: Bool = false) -> [UInt8]? {
        let foreign: Set<Character> = urlSafe ? ["+", "/"] : ["-", "_"]
        guard !text.contains(where: foreign.contains) else { return nil }
        var standard = urlSafe ? String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }) : text
        if !standard.hasSuffix("=") { standard += String(repeating: "=", count: (4 - standard.count % 4) % 4) }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
