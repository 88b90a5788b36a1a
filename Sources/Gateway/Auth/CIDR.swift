#if canImport(Glibc)
import Glibc
#endif

/// An address range (`127.0.0.1/32`, `10.0.0.0/8`, `::1/128`): where trusted proxies connect from.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    let address: [UInt8]
    let prefix: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let bytes = CIDR.bytes(of: String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else { return nil }
        address = bytes
        self.prefix = prefix
        description = text
    }

    /// Whether an address (text form; IPv4-mapped IPv6 counts as IPv4) is in the range.
    public func contains(_ text: String) -> Bool {
        guard var bytes = CIDR.bytes(of: text) else { return false }
        if bytes.count == 16, address.count == 4, bytes[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == address.count else { return false }
        for bit in 0..<prefix where (bytes[bit / 8] ^ address[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
