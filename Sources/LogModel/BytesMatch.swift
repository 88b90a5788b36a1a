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
