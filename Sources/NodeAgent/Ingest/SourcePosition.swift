import RingStore

/// Where a container's ring has read its CRI log up to, stored with every append: the file's
/// identity (device, inode) and the offset after the last line taken, and whether the reader was
/// skipping the rest of an over-long line. A restarted agent resumes exactly there.
struct SourcePosition: Equatable {
    var device: UInt64
    var inode: UInt64
    var offset: UInt64
    var skippingLine: Bool

    var encoded: [UInt8] {
        var bytes = [UInt8]()
        for value in [device, inode, offset] { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        bytes.append(skippingLine ? 1 : 0)
        return bytes
    }

    init(device: UInt64, inode: UInt64, offset: UInt64, skippingLine: Bool) {
        self.device = device
        self.inode = inode
        self.offset = offset
        self.skippingLine = skippingLine
    }

    init?(_ bytes: [UInt8]) {
        guard bytes.count == 25 else { return nil }
        func word(_ index: Int) -> UInt64 {
            bytes[(index * 8)..<(index * 8 + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(device: word(0), inode: word(1), offset: word(2), skippingLine: bytes[24] != 0)
    }
}
