/// Tests on eight bytes at once (a `UInt64` loaded from a line), so that the JSON scanners of
/// the read path skip the plain runs of a message a word at a time ("SWAR"; each test is exact
/// for the word as a whole).
enum ByteWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether a byte of `word` is below `limit` (at most 0x80).
    static func hasByte(below limit: UInt8, in word: UInt64) -> Bool {
        (word &- UInt64(limit) &* ones) & ~word & highs != 0
    }

    /// Whether a byte of `word` is `byte`.
    static func hasByte(_ byte: UInt8, in word: UInt64) -> Bool {
        hasByte(below: 1, in: word ^ (UInt64(byte) &* ones))
    }

    /// Whether a byte of `word` has its high bit set (not ASCII).
    static func hasHighByte(_ word: UInt64) -> Bool { word & highs != 0 }

    /// Whether a byte of `word` ends a JSON string's plain run: a quote, a backslash or a control character.
    static func hasJSONSpecial(_ word: UInt64) -> Bool {
        hasByte(below: 0x20, in: word) || hasByte(UInt8(ascii: "\""), in: word) || hasByte(UInt8(ascii: "\\"), in: word)
    }
}
