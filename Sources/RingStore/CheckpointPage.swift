#if canImport(Glibc)
import Glibc
#endif

/// The page that holds the two checkpoint slots, mapped shared for the writer. Every append
/// ends with a checkpoint; as a memory copy into the page cache it costs about a tenth of the
/// `pwrite` it replaces, and it is just as safe against a crash of the process (the page is the
/// file's). Records are never read through a mapping: readers use `pread`.
final class CheckpointPage: @unchecked Sendable {
    // Only touched under the ring's writer lock.
    private let base: UnsafeMutableRawPointer
    static let offset: UInt64 = 4096
    static let size = 4096

    init(file: RawFile) throws {
        guard let mapped = mmap(nil, CheckpointPage.size, PROT_READ | PROT_WRITE, MAP_SHARED, file.descriptor,
                                off_t(CheckpointPage.offset)),
              mapped != MAP_FAILED
        else { throw RingStoreError.io(operation: "mmap", path: file.path, errno: errno) }
        base = mapped
    }

    deinit { munmap(base, CheckpointPage.size) }

    func store(_ bytes: [UInt8], at fileOffset: UInt64) {
        precondition(fileOffset >= CheckpointPage.offset
            && fileOffset + UInt64(bytes.count) <= CheckpointPage.offset + UInt64(CheckpointPage.size))
        bytes.withUnsafeBytes { (base + Int(fileOffset - CheckpointPage.offset)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }
}
