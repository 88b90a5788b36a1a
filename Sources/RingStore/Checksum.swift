import CRC32C

/// CRC-32C of a ring file. Each file mixes in its own random seed, so that bytes a tool logs
/// cannot be crafted to pass as a record of ours when a reader searches for a record boundary.
struct Checksum: Sendable {
    let seed: UInt32

    func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        crc32c_extend(seed, bytes.baseAddress, bytes.count)
    }

    func of(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { of($0) }
    }
}
