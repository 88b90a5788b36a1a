/// A ring's identity: a random (version 4) UUID, never reused, so a cursor can never point
/// into a newer ring that happens to have the same name.
public struct RingID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    // Two words rather than an array: ids are copied on hot paths, and words need no refcount.
    private let high: UInt64
    private let low: UInt64

    init(bytes: [UInt8]) {
        precondition(bytes.count == 16)
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public static func random() -> RingID {
        // Two draws of a word, not sixteen of a byte: each draw is a system call.
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next(), low: UInt64 = generator.next()
        // Version 4 (byte 6's high nibble), variant 1 (byte 8's top two bits 10).
        return RingID(high: high & ~0xf000 | 0x4000, low: low & ~(0xc0 << 56) | 0x80 << 56)
    }

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the canonical form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case), in one
    /// pass without allocating: every cursor and ring path names one.
    public init?(_ text: some StringProtocol) {
        var words: (high: UInt64, low: UInt64) = (0, 0)
        var position = 0
        for byte in text.utf8 {
            defer { position += 1 }
            if Self.isDash(position) {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard position < 36, let value = hexValue(byte) else { return nil }
            // The digits before the third dash (16) make the high word.
            if position < 18 { words.high = words.high << 4 | UInt64(value) } else { words.low = words.low << 4 | UInt64(value) }
        }
        guard position == 36 else { return nil }
        self.init(high: words.high, low: words.low)
    }

    /// Whether the canonical form has a dash at `position`.
    private static func isDash(_ position: Int) -> Bool { position == 8 || position == 13 || position == 18 || position == 23 }

    public var description: String {
        String(unsafeUninitializedCapacity: 36) { out in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            for nibble in 0..<32 {
                if Self.isDash(position) {
                    out[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? high : low
                out[position] = digits.utf8Start[Int(word >> (60 - 4 * UInt64(nibble % 16)) & 0xf)]
                position += 1
            }
            return position
        }
    }

    /// Its first 8 bytes (60 of them random): what the folded runs' table keys on.
    var prefix: UInt64 { high }

    public static func < (lhs: RingID, rhs: RingID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = RingID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a ring id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

private func hexValue(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// A position in one ring: the sequence number of the next record to read. Its text form is
/// versioned (`r1.`) and opaque to clients; merged reads combine several of them.
public struct RingCursor: Hashable, Sendable, CustomStringConvertible {
    public var ring: RingID
    public var seq: UInt64

    public init(ring: RingID, seq: UInt64) {
        self.ring = ring
        self.seq = seq
    }

    public var description: String { "r1.\(ring).\(seq)" }

    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "r1", let ring = RingID(parts[1]), let seq = UInt64(parts[2]) else {
            throw RingStoreError.invalidCursor(text)
        }
        self.init(ring: ring, seq: seq)
    }
}
