import Foundation
@_spi(Fuzzing) import RingStore

// libFuzzer entry point: open arbitrary bytes as a ring file and read everything. Built with
// `swift build --sanitize=fuzzer --sanitize=address --product fuzz-ring-open` (see docs/ring-format.md).
// Whatever the bytes, opening must fail with an error or succeed, and reading must never trap.
// Checksums keep mutated bytes from ever reaching a block's decoder inside a file, so the same
// bytes are also handed to it as a block payload (header, then a zstd or stored body).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRingOpen(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let scratch = NSTemporaryDirectory() + "fuzz-ring-\(getpid()).ring"
    unlink(scratch)
    let fd = open(scratch, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = decodeBlockPayload(bytes, codec: size > 0 && bytes[0] & 1 == 1 ? 1 : 0)
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

