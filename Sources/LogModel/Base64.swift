/// Base64 (RFC 4648): the standard alphabet with padding for messages that are not UTF-8, and
/// the URL- and filename-safe one without padding for cursors in URLs. Written here rather than
/// taken from Foundation because the gateway encodes a cursor for every entry it hands out:
/// measured with `swiftc -O` on an 83-byte cursor, 0.2 µs here against 0.9 µs for
/// `Data.base64EncodedData()` and a byte-wise switch of alphabet (6 µs through `String`).
/// Decoding takes input with or without padding, and nothing from the other alphabet.
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
