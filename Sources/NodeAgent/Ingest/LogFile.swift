#if canImport(Glibc)
import Glibc
#endif

/// An open log file and its identity, read with `pread` at an offset we keep.
final class LogFile {
    let descriptor: Int32
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 || errno != EINTR { return max(count, 0) }
        }
    }

    /// (device, inode, size) of whatever is at `path` now; nil if nothing is.
    static func identity(of path: String) -> (device: UInt64, inode: UInt64, size: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_size))
    }
}
