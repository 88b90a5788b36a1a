#if canImport(Glibc)
import Glibc
#endif
import CRingIO

/// A file descriptor used only through positional I/O (`pread`/`pwrite`), so that one writer
/// and any number of readers share it without a file offset to fight over, and so that memory
/// stays bounded whatever the file size (no `mmap`).
final class RawFile: Sendable {
    let path: String
    let descriptor: Int32

    /// `directory` opens a directory only to sync its entries.
    enum Mode { case readOnly, readWrite, create, directory }

    init(path: String, mode: Mode) throws {
        self.path = path
        let flags: Int32
        switch mode {
        case .readOnly: flags = O_RDONLY | O_CLOEXEC
        case .readWrite: flags = O_RDWR | O_CLOEXEC
        case .create: flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC
        case .directory: flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC
        }
        let fd = open(path, flags, 0o640)
        guard fd >= 0 else { throw RingStoreError.io(operation: "open", path: path, errno: errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Takes the exclusive advisory lock that marks the one writer of this file. A lock held
    /// elsewhere is waited for up to a second before it counts as another writer's: a process
    /// forked by another thread of this one holds a copy of the descriptor (and so the lock of
    /// a writer just closed) until it execs, which under load takes a while.
    func lockExclusive() throws {
        for attempt in 0...100 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return }
            guard errno == EWOULDBLOCK || errno == EINTR else { throw RingStoreError.io(operation: "flock", path: path, errno: errno) }
            if attempt < 100 { usleep(10_000) }
        }
        throw RingStoreError.lockedByAnotherWriter(path: path)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try repeatUntilDone("pread", count: buffer.count) { done in
            pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }
    }

    /// Reads `count` bytes at `offset`; bytes past the end of the file read as zero.
    func read(count: Int, at offset: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        _ = try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return bytes
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        _ = try repeatUntilDone("pwrite", count: bytes.count) { done in
            pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
        }
    }

    /// Runs a positional transfer until `count` bytes are done or it returns 0 (end of file),
    /// retrying interrupted calls.
    private func repeatUntilDone(_ operation: String, count: Int, _ transfer: (Int) -> Int) throws -> Int {
        var done = 0
        while done < count {
            let n = transfer(done)
            if n < 0 {
                if errno == EINTR { continue }
                throw RingStoreError.io(operation: operation, path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    func syncData() throws {
        guard fdatasync(descriptor) == 0 else { throw RingStoreError.io(operation: "fdatasync", path: path, errno: errno) }
    }

    /// Bytes the file occupies on disk (ring files are sparse until their regions fill).
    func allocatedBytes() throws -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw RingStoreError.io(operation: "fstat", path: path, errno: errno) }
        return UInt64(info.st_blocks) * 512
    }

    func truncate(to size: UInt64) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw RingStoreError.io(operation: "ftruncate", path: path, errno: errno)
        }
    }
}

extension RawFile {
    /// Gives `count` bytes at `offset` back to the file system; they read as zeros after. The
    /// file keeps its size.
    func punchHole(at offset: UInt64, count: UInt64) throws {
        // A file system that cannot punch holes keeps the bytes: they are only zeros to come.
        guard ring_punch_hole(descriptor, Int64(offset), Int64(count)) == 0 || errno == EOPNOTSUPP else {
            throw RingStoreError.io(operation: "fallocate", path: path, errno: errno)
        }
    }
}

extension RawFile {
    /// Makes `count` bytes at `offset` zeros for good: given back to the file system, or written
    /// over where it cannot punch (a purged run's bytes must not stay readable either way).
    func erase(at offset: UInt64, count: UInt64) throws {
        guard count > 0 else { return }
        if ring_punch_hole(descriptor, Int64(offset), Int64(count)) == 0 { return }
        guard errno == EOPNOTSUPP else { throw RingStoreError.io(operation: "fallocate", path: path, errno: errno) }
        let zeros = [UInt8](repeating: 0, count: Int(Swift.min(count, 1 << 20)))
        var done: UInt64 = 0
        while done < count {
            let piece = Int(Swift.min(UInt64(zeros.count), count - done))
            try zeros.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<piece]), at: offset + done) }
            done += UInt64(piece)
        }
    }

    /// The file's length (not what it occupies: files here are sparse).
    func size() throws -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw RingStoreError.io(operation: "fstat", path: path, errno: errno) }
        return UInt64(info.st_size)
    }
}
