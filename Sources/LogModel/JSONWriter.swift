/// Appends JSON to a byte buffer: objects with string, integer and boolean members. Written by
/// hand for the read path: several times faster than `JSONEncoder`, and it can carry JSON that
/// is already encoded (an agent's items in the gateway's pages).
public struct JSONWriter {
    private static let hex = Array("0123456789abcdef".utf8)
    public var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

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

    /// A time as `NanoTime.format` writes it, as a string, with no `String` made on the way.
    public mutating func time(_ nanos: Int64) {
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: NanoTime.formattedLength))
        let length = bytes.withUnsafeMutableBufferPointer { NanoTime.write(nanos, into: UnsafeMutableBufferPointer(rebasing: $0[start...])) }
        bytes.removeLast(NanoTime.formattedLength - length)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A value that is JSON already (an object or array as another writer made it).
    public mutating func json(_ encoded: ArraySlice<UInt8>) {
        // Concrete, not generic: called from other modules, a generic append went byte by byte
        // (an agent's item copied into a page was a seventh of the gateway's time for NDJSON).
        encoded.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        needsComma = true
    }

    public mutating func json(_ encoded: [UInt8]) {
        json(encoded[...])
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
        var value = value
        value.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The same of bytes the caller knows to be valid UTF-8 (a record's payload, checked once).
    /// Runs of bytes that need no escape are found eight at a time and copied whole: a read
    /// writes every message this way, and a byte at a time was half of the agent's time for
    /// NDJSON (measured, bench/big_reads.py).
    public mutating func string(utf8 raw: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        let text = raw.assumingMemoryBound(to: UInt8.self)
        var start = 0
        var index = 0
        let count = text.count
        Self.plain.withUnsafeBufferPointer { plain in
            while index < count {
                if index + 8 <= count, !Self.mayNeedEscape(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                    index += 8
                    continue
                }
                let byte = text[index]
                if plain[Int(byte)] {
                    index += 1
                    continue
                }
                if start < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<index])) }
                index += 1
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), byte])
                case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0xc2 where index < count && text[index] == 0x85:
                    // U+0085 is C2 85.
                    escape(0x85)
                    index += 1
                case 0xe2 where index + 1 < count && text[index] == 0x80 && (text[index + 1] == 0xa8 || text[index + 1] == 0xa9):
                    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                    escape(0x2028 | UInt16(text[index + 1] & 1))
                    index += 2
                case 0xc2, 0xe2: bytes.append(byte)
                default: escape(UInt16(byte))
                }
                start = index
            }
        }
        if start < count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<count])) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Whether any of eight bytes may need an escape: a quote, a backslash, a control
    /// character, DEL, or a byte of a multi-byte character (looked at one by one).
    private static func mayNeedEscape(_ word: UInt64) -> Bool {
        ByteWords.hasHighByte(word) || ByteWords.hasJSONSpecial(word) || ByteWords.hasByte(0x7f, in: word)
    }

    /// The bytes a JSON string holds as they are: not a quote, a backslash, a control character
    /// or the first byte of a line separator (C2 of U+0085, E2 of U+2028 and U+2029).
    private static let plain: [Bool] = (0...255).map { byte in
        !(byte < 0x20 || byte == 0x7f || byte == 0x22 || byte == 0x5c || byte == 0xc2 || byte == 0xe2)
    }

    /// `\uXXXX`.
    private mutating func escape(_ unit: UInt16) {
        let hex = Self.hex
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), hex[Int(unit >> 12)], hex[Int(unit >> 8 & 0xf)],
                                  hex[Int(unit >> 4 & 0xf)], hex[Int(unit & 0xf)]])
    }
}
