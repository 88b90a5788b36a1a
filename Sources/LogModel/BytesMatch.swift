#if canImport(Glibc)
import Glibc
#endif

extension RandomAccessCollection where Element == UInt8, Index == Int {
    /// Whether `text`'s UTF-8 stands at `offset`: the hand-written scanners of the wire
    /// (`JSONMembers`, the agent's item lines) expect fixed words this way. Inlinable: called
    /// unspecialised from another module, it went through the generic witnesses byte by byte
    /// (measured: the gateway's NDJSON read 1.7x slower).
    @inlinable
    public func hasBytes(of text: StaticString, at offset: Int) -> Bool {
        let count = text.utf8CodeUnitCount
        return text.withUTF8Buffer { expected in
            offset >= startIndex && offset + count <= endIndex && self[offset..<(offset + count)].elementsEqual(expected)
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Where `byte` first stands at or after `start`, found with `memchr`, which looks at many
    /// bytes a step where a loop looks at one: every path that cuts lines (ingest, the
    /// gateway's agent answers, the CLI's stream) finds newlines this way. Inlinable, as
    /// `hasBytes` is: it is called once a line from other modules.
    @inlinable
    public func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        guard start < count, let base = baseAddress, let found = memchr(base + start, Int32(byte), count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }
}
