/// A read-ahead window over a ring file that hands out checked frames. Reading 64 KiB at a time
/// turns a walk over small records into a few large `pread`s; every frame it returns has passed
/// its checksum.
struct FrameWindow {
    let file: RawFile
    let checksum: Checksum
    private(set) var buffer: [UInt8] = []
    private var start: UInt64 = 0
    private var count = 0
    /// Bytes read ahead at a time: large for walks, small for binary search probes.
    let chunk: Int

    static let walkChunk = 64 * 1024
    static let probeChunk = 4 * 1024

    init(file: RawFile, checksum: Checksum, chunk: Int = FrameWindow.walkChunk) {
        self.file = file
        self.checksum = checksum
        self.chunk = chunk
    }

    struct Frame {
        var header: FrameHeader
        /// Absolute file offset of the frame.
        var offset: UInt64
        /// Where the payload sits in `buffer` (valid until the window moves).
        var payloadStart: Int
    }

    mutating func invalidate() { count = 0 }

    /// Forgets the window if it holds any byte of `range` (which was just written).
    mutating func invalidate(overlapping range: Range<UInt64>) {
        if range.overlaps(start..<(start + UInt64(count))) { count = 0 }
    }

    /// Makes `[offset, offset + length)` readable from `buffer`; false if the file ends first.
    private mutating func load(_ offset: UInt64, _ length: Int, limit: UInt64) throws -> Bool {
        if offset >= start, offset + UInt64(length) <= start + UInt64(count) { return true }
        let want = Int(Swift.min(UInt64(Swift.max(length, chunk)), limit - offset))
        guard want >= length else { return false }
        if buffer.count < want { buffer = [UInt8](repeating: 0, count: want) }
        let got = try buffer.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), at: offset) }
        start = offset
        count = got
        return got >= length
    }

    private func index(_ offset: UInt64) -> Int { Int(offset - start) }

    /// The frame at `offset` if a valid one is there and ends by `limit`; nil otherwise.
    mutating func frame(at offset: UInt64, limit: UInt64) throws -> Frame? {
        let headerSize = RingFormat.frameHeaderSize
        guard offset + UInt64(headerSize) <= limit, try load(offset, headerSize, limit: limit) else { return nil }
        let at = index(offset)
        guard let header = buffer.withUnsafeBytes({ FrameHeader.parse(UnsafeRawBufferPointer(rebasing: $0[at..<(at + headerSize)])) }),
              offset + header.frameSize <= limit
        else { return nil }
        return try checked(header, at: offset, limit: limit)
    }

    private mutating func checked(_ header: FrameHeader, at offset: UInt64, limit: UInt64) throws -> Frame? {
        let total = RingFormat.frameHeaderSize + Int(header.length)
        guard try load(offset, total, limit: limit) else { return nil }
        let at = index(offset)
        let crc = buffer.withUnsafeBytes { checksum.of(UnsafeRawBufferPointer(rebasing: $0[(at + 4)..<(at + total)])) }
        guard crc == header.checksum else { return nil }
        return Frame(header: header, offset: offset, payloadStart: at + RingFormat.frameHeaderSize)
    }

    func payload(of frame: Frame) -> [UInt8] {
        Array(buffer[frame.payloadStart..<(frame.payloadStart + Int(frame.header.length))])
    }

    /// Searches `[from, limit)` at 8-byte steps for the first valid frame that `accept` takes,
    /// looking at no more than `maxScan` bytes: how a reader finds its footing after damage or
    /// at an arbitrary offset (a binary search probe).
    mutating func findFrame(from: UInt64, limit: UInt64, maxScan: UInt64, accept: (FrameHeader) -> Bool) throws -> Frame? {
        var offset = alignedUp(from, to: RingFormat.frameAlignment)
        guard offset < limit else { return nil }
        let end = maxScan >= limit - offset ? limit : offset + maxScan
        let headerSize = RingFormat.frameHeaderSize
        while offset + UInt64(headerSize) <= end {
            guard try load(offset, headerSize, limit: limit) else { return nil }
            // Scan the loaded bytes without calling back into `load` for each step.
            let scanEnd = Swift.min(start + UInt64(count), end) - UInt64(headerSize)
            while offset <= scanEnd {
                let at = index(offset)
                let header = buffer.withUnsafeBytes { FrameHeader.parse(UnsafeRawBufferPointer(rebasing: $0[at..<(at + headerSize)])) }
                if let header, accept(header), offset + header.frameSize <= limit {
                    if let frame = try checked(header, at: offset, limit: limit) { return frame }
                    offset += RingFormat.frameAlignment
                    break  // `checked` may have moved the window
                }
                offset += RingFormat.frameAlignment
            }
        }
        return nil
    }
}
