/// The names the platform gives tools, jobs, builds and sources: RFC 1123 labels. Checking
/// them at every entry point means no path trick (`..`, encoded slashes) can name anything else.
public enum NameRules {
    /// Lowercase letters, digits and `-`, not at either end, at most 63.
    public static func isLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
    }
}
