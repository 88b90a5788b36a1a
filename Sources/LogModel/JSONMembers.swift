/// Reads the members of one JSON object in one pass over its bytes, handing each to the caller
/// as it goes: the entries of a streamed read are flat objects, read by the million, and a
/// `JSONDecoder` per line built a Foundation object graph for each (the CLI printed 66,000
/// lines a second that way). Only what the caller asks for becomes a `String`. Nested values
/// (a pushed line's own fields) are checked and skipped.
public enum JSONMembers {
    /// A member's value, as a view of the line's bytes.
    public enum Value {
        /// A string's bytes between its quotes, still escaped when `escaped`.
        case string(UnsafeRawBufferPointer, escaped: Bool)
        case number(UnsafeRawBufferPointer)
        case bool(Bool)
        case null
        /// An object or an array.
        case nested

        /// The string's text; nil for any other value or a string that is not valid JSON.
        public var text: String? {
            guard case let .string(bytes, escaped) = self else { return nil }
            return escaped ? JSONMembers.unescape(bytes) : String(decoding: bytes, as: UTF8.self)
        }

        /// A number without sign, fraction or exponent; nil otherwise.
        public var unsigned: UInt64? {
            guard case let .number(bytes) = self, !bytes.isEmpty else { return nil }
            var value: UInt64 = 0
            for byte in bytes {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow, !carry else { return nil }
                value = sum
            }
            return value
        }
    }

    /// A member's name, as a view of the line's bytes: compared without a `String` made for it.
    public struct Name {
        let bytes: UnsafeRawBufferPointer
        let escaped: Bool

        public func `is`(_ text: StaticString) -> Bool {
            escaped ? self.text == text.description : bytes.hasBytes(of: text, at: 0) && bytes.count == text.utf8CodeUnitCount
        }

        public var text: String { (escaped ? JSONMembers.unescape(bytes) : nil) ?? String(decoding: bytes, as: UTF8.self) }
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String { "not a JSON object" }
    }

    /// Calls `member` with each member's name and value, in order. Throws `Malformed` for
    /// anything but one JSON object (surrounding whitespace aside).
    public static func read(_ line: UnsafeRawBufferPointer, _ member: (_ name: Name, _ value: Value) throws -> Void) throws {
        var scanner = Scanner(bytes: line)
        scanner.skipSpace()
        try scanner.expect(UInt8(ascii: "{"))
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "}") {
            scanner.offset += 1
        } else {
            while true {
                guard case let .string(bytes, escaped) = try scanner.value(), !escaped || unescape(bytes) != nil else { throw Malformed() }
                let name = Name(bytes: bytes, escaped: escaped)
                scanner.skipSpace()
                try scanner.expect(UInt8(ascii: ":"))
                try member(name, try scanner.value())
                scanner.skipSpace()
                if scanner.peek == UInt8(ascii: ",") {
                    scanner.offset += 1
                    continue
                }
                try scanner.expect(UInt8(ascii: "}"))
                break
            }
        }
        scanner.skipSpace()
        guard scanner.offset == line.count else { throw Malformed() }
    }

    /// The text of a JSON string's escaped bytes; nil when an escape is not JSON's or the
    /// result is not valid UTF-8 (a lone surrogate).
    public static func unescape(_ bytes: UnsafeRawBufferPointer) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[index..<(index + 4)] {
                guard let digit = hexDigit(byte) else { return nil }
                value = value << 4 | digit
            }
            index += 4
            return value
        }
        while index < bytes.count {
            // The run up to the next backslash, at once.
            let end = bytes.firstIndex(of: UInt8(ascii: "\\"), from: index) ?? bytes.count
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]).assumingMemoryBound(to: UInt8.self))
            index = end
            guard index < bytes.count else { break }
            index += 1
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xd800..<0xdc00).contains(scalar) {
                    // A high surrogate: its low half must follow as `\uDCxx`.
                    guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                    index += 2
                    guard let low = hex4(), (0xdc00..<0xe000).contains(low) else { return nil }
                    scalar = 0x10000 + (scalar - 0xd800) << 10 + (low - 0xdc00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(unicode)!)
            default:
                return nil
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d { offset += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard peek == byte else { throw Malformed() }
            offset += 1
        }

        mutating func value() throws(Malformed) -> Value {
            skipSpace()
            guard let first = peek else { throw Malformed() }
            switch first {
            case UInt8(ascii: "\""):
                return try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                try skipNested()
                return .nested
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                let start = offset
                while let byte = peek, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    offset += 1
                }
                guard offset > start else { throw Malformed() }
                return .number(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
            }
        }

        /// From the opening quote; control characters are not allowed raw inside.
        mutating func string() throws(Malformed) -> Value {
            offset += 1
            let start = offset
            var escaped = false
            while offset < bytes.count {
                if offset + 8 <= bytes.count, !ByteWords.hasJSONSpecial(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) {
                    offset += 8
                    continue
                }
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    offset += 1
                    return .string(UnsafeRawBufferPointer(rebasing: bytes[start..<(offset - 1)]), escaped: escaped)
                }
                guard byte >= 0x20 else { throw Malformed() }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    offset += 1
                }
                offset += 1
            }
            throw Malformed()
        }

        mutating func literal(_ word: StaticString) throws(Malformed) {
            guard bytes.hasBytes(of: word, at: offset) else { throw Malformed() }
            offset += word.utf8CodeUnitCount
        }

        /// An object or array, brackets balanced outside strings.
        mutating func skipNested() throws(Malformed) {
            var depth = 0
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    _ = try string()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                offset += 1
                if depth == 0 { return }
            }
            throw Malformed()
        }
    }
}
