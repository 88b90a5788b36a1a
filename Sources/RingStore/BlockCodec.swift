import CZstd
import Synchronization

/// zstd for sealed blocks. Contexts come from one pool per process, not one per ring: a thread
/// takes one, uses it and gives it back, so there are as many as threads compress (or
/// decompress) at once, while a node's thousand rings own none.
enum BlockCodec {
    /// What a block frame's body is; stored in the frame's stream byte.
    enum Codec: UInt8 {
        case stored = 0
        case zstd = 1
    }

    /// Level 1 keeps 98 % of level 3's ratio on 64 KiB blocks of log at 1.16 times its speed
    /// (docs/performance.md); the appending thread compresses.
    static let level: Int32 = 1

    private static let compressors = ContextPool(make: { ZSTD_createCCtx() }, free: { _ = ZSTD_freeCCtx($0) })
    private static let decompressors = ContextPool(make: { ZSTD_createDCtx() }, free: { _ = ZSTD_freeDCtx($0) })

    /// `input` as one zstd frame that declares its size, or nil when that would not save at
    /// least 1/32 of it (the block is then stored as it is).
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = BlockCodec.level) -> [UInt8]? {
        let bound = ZSTD_compressBound(input.count)
        let worthIt = input.count - input.count / 32
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let written = compressors.using { context in
                ZSTD_compressCCtx(context, buffer.baseAddress, bound, input.baseAddress, input.count, level)
            }
            count = ZSTD_isError(written) == 0 && written < worthIt ? written : 0
        }
        return output.isEmpty ? nil : output
    }

    /// The size a zstd frame says it decodes to; nil when it is not a frame that says.
    static func declaredSize(_ input: UnsafeRawBufferPointer) -> Int? {
        let size = tfl_zstd_declared_size(input.baseAddress, input.count)
        return size > 0 && size <= UInt64(Int.max) ? Int(size) : nil
    }

    /// The `size` bytes that `input` decodes to; nil unless it is one zstd frame that declares
    /// exactly `size` and decodes to exactly that. The caller caps `size` before asking.
    static func decompress(_ input: UnsafeRawBufferPointer, size: Int) -> [UInt8]? {
        guard size > 0, tfl_zstd_declared_size(input.baseAddress, input.count) == UInt64(size) else { return nil }
        let output = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let written = decompressors.using { context in
                ZSTD_decompressDCtx(context, buffer.baseAddress, size, input.baseAddress, input.count)
            }
            count = ZSTD_isError(written) == 0 && written == size ? size : 0
        }
        return output.count == size ? output : nil
    }
}

/// Idle contexts of one kind, taken and given back around each use.
final class ContextPool: Sendable {
    private let idle = Mutex<[UInt]>([])
    private let make: @Sendable () -> OpaquePointer?
    private let free: @Sendable (OpaquePointer) -> Void
    /// More idle contexts than threads that ever compress at once would only hold memory.
    private static let keep = 8

    init(make: @escaping @Sendable () -> OpaquePointer?, free: @escaping @Sendable (OpaquePointer) -> Void) {
        self.make = make
        self.free = free
    }

    func using<Result>(_ body: (OpaquePointer) -> Result) -> Result {
        // Kept as addresses: an OpaquePointer is not Sendable, and the pool hands each to one thread at a time.
        let taken = idle.withLock { $0.popLast() }
        guard let context = taken.flatMap({ OpaquePointer(bitPattern: $0) }) ?? make() else {
            fatalError("zstd could not allocate a context")
        }
        defer {
            let kept = idle.withLock { idle -> Bool in
                guard idle.count < ContextPool.keep else { return false }
                idle.append(UInt(bitPattern: Int(bitPattern: context)))
                return true
            }
            if !kept { free(context) }
        }
        return body(context)
    }
}
