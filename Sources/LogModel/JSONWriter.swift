/// Any JSON value, for the fields of pushed lines that are kept as they came.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .bool(value): try container.encode(value)
        case .null: try container.encodeNil()
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    public func write(to writer: inout JSONWriter) {
        switch self {
        case let .string(value): writer.string(value)
        case let .number(value): writer.raw(value.isFinite ? (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)) : "null")
        case let .bool(value): writer.raw(value ? "true" : "false")
        case .null: writer.raw("null")
        case let .array(values):
            writer.bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                value.write(to: &writer)
            }
            writer.bytes.append(UInt8(ascii: "]"))
        case let .object(members):
            writer.beginObject()
            for key in members.keys.sorted() {
                writer.key(key)
                members[key]!.write(to: &writer)
            }
            writer.endObject()
        }
    }
}

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

/// Standard base64 (RFC 4648, with padding).
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// RFC 4648's URL- and filename-safe alphabet, for tokens in URLs (without padding).
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8], urlSafe: Bool = false) -> String {
        let alphabet = urlSafe ? urlAlphabet : alphabet
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var value = UInt32(bytes[index]) << 16
            if count > 1 { value |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { value |= UInt32(bytes[index + 2]) }
            for position in 0...count {
                out.append(alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3f)])
            }
            if !urlSafe { out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 3 - count)) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String, urlSafe: Bool = false) -> [UInt8]? {
        var lookup = [UInt8](repeating: 0xff, count: 256)
        for (index, character) in (urlSafe ? urlAlphabet : alphabet).enumerated() { lookup[Int(character)] = UInt8(index) }
        let input = Array(text.utf8).filter { $0 != UInt8(ascii: "=") }
        guard input.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for character in input {
            let value = lookup[Int(character)]
            guard value != 0xff else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
