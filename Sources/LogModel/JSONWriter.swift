/// Appends JSON to a byte buffer: objects with string, integer and boolean members. Written by
/// hand for the read path: several times faster than `JSONEncoder`, and it can carry JSON that
/// is already encoded (an agent's items in the gateway's pages).
public struct JSONWriter {
    private static let hex = Array("0123456789abcdef".utf8)
    public var bytes: [UInt8] = []
    private var needsComma = false

    public init() { bytes.reserveCapacity(256) }

    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func field(_ name: String, _ value: UInt64?) {
        guard let value else { return }
        key(name)
        raw(String(value))
    }

    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        raw(value ? "true" : "false")
    }

    public mutating func field(_ name: String, _ value: Int64) {
        key(name)
        raw(String(value))
    }

    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// A value that is JSON already (an object or array as another writer made it).
    public mutating func json(_ encoded: some Collection<UInt8>) {
        bytes.append(contentsOf: encoded)
        needsComma = true
    }

    /// Starts an array; `element()` comes before each value in it.
    public mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func element() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A JSON string: quotes, backslashes and control characters escaped (RFC 8259), and the
    /// line separators U+0085, U+2028 and U+2029 too: valid in JSON, but Python's `splitlines`
    /// (the platform's clients read streams with it) breaks lines there.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var utf8 = value.utf8.makeIterator()
        var lookahead: UInt8?
        while let byte = lookahead ?? utf8.next() {
            lookahead = nil
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7f: escape(UInt16(byte))
            case 0xc2:
                // U+0085 is C2 85.
                let next = utf8.next()
                if next == 0x85 { escape(0x85) } else { bytes.append(byte); lookahead = next }
            case 0xe2:
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                let second = utf8.next()
                guard second == 0x80 else { bytes.append(byte); lookahead = second; continue }
                let third = utf8.next()
                if third == 0xa8 || third == 0xa9 { escape(0x2000 | 0x28 | UInt16(third! & 1)) } else {
                    bytes.append(contentsOf: [byte, 0x80])
                    lookahead = third
                }
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// `\uXXXX`.
    private mutating func escape(_ unit: UInt16) {
        let hex = Self.hex
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), hex[Int(unit >> 12)], hex[Int(unit >> 8 & 0xf)],
                                  hex[Int(unit >> 4 & 0xf)], hex[Int(unit & 0xf)]])
    }
}
