/// Log content is written by whoever runs in the container: on a terminal, its control
/// characters could move the cursor, rewrite the title or write the clipboard (OSC 52). They are
/// shown instead as visible escapes (`\e`, `\x07`, `\u{9b}`); tabs stay tabs.
package enum TerminalText {
    package static func neutralised(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var safe = ""
        safe.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                safe.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x1B: safe += "\\e"
            case 0x80...: safe += "\\u{\(String(scalar.value, radix: 16))}"
            default: safe += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            }
        }
        return safe
    }

    /// C0 controls but tab, DEL, the C1 controls (0x9B is a one-byte CSI), and the bidirectional
    /// overrides that can make a line read as something else.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
