import Foundation
// A debug build (as the fuzz build is) allows it: the block decoder is reached directly too.
@testable import RingStore

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
    decodeAsBlock(UnsafeRawBufferPointer(start: data, count: size))
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

/// The bytes as a block frame's payload, as `FrameWindow.decode` takes one apart after its CRC.
func decodeAsBlock(_ payload: UnsafeRawBufferPointer) {
    guard let header = BlockHeader(payload), header.decodedSize <= 256 * 1024, payload.count > BlockHeader.size else { return }
    let stored = UnsafeRawBufferPointer(rebasing: payload[BlockHeader.size...])
    let body = stored.first.map { $0 & 1 == 0 } ?? true ? Array(stored) : BlockCodec.decompress(stored, size: Int(header.decodedSize))
    guard let body, let block = DecodedBlock(body: body, header: header, firstSeq: 0, firstTimestamp: 0) else { return }
    for index in block.entries.indices { _ = block.withRecord(index) { $0.payload.count } }
}
