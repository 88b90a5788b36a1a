/// Little-endian encoding into and out of byte arrays: the whole on-disk format is little-endian.
extension Array where Element == UInt8 {
    @inlinable
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    @inlinable
    mutating func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    @inlinable
    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { $0.loadLE(T.self, at: offset) }
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

@inlinable
func alignedUp(_ value: UInt64, to alignment: UInt64) -> UInt64 {
    (value + alignment - 1) / alignment * alignment
}
