import Foundation
import RingStore

// libFuzzer entry point: open arbitrary bytes as a ring file and read everything. Built with
// `swift build --sanitize=fuzzer --sanitize=address --product fuzz-ring-open` (see docs/ring-format.md).
// Whatever the bytes, opening must fail with an error or succeed, and reading must never trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRingOpen(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let scratch = NSTemporaryDirectory() + "fuzz-ring-\(getpid()).ring"
    unlink(scratch)
    let fd = open(scratch, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    for writable in [false, true] {
        guard let ring = try? Ring.open(path: scratch, writable: writable) else { return 0 }
        _ = try? ring.read(ReadRequest())
        _ = try? ring.read(ReadRequest(start: .last(10)))
        _ = try? ring.read(ReadRequest(start: .time(1_000)))
        _ = try? ring.read(ReadRequest(start: .last(3), until: 5_000, before: 7))
        if writable { _ = try? ring.append([.line(timestamp: 1, stream: .stdout, flags: [], payload: [1, 2, 3])]) }
    }
    return 0
}
