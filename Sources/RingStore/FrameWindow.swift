/// A read-ahead window over a ring file that hands out checked frames, and the records of
/// blocks decoded. Reading 64 KiB at a time turns a walk over small records into a few large
/// `pread`s; every frame it returns has passed its checksum.
struct FrameWindow {
    let file: RawFile
    let checksum: Checksum
    /// A block that says it decodes to more than this is damage, whatever its checksum says.
    let decodedLimit: Int
    private(set) var buffer: [UInt8] = []
    private var start: UInt64 = 0
    private var count = 0
    /// Bytes read ahead at a time: large for walks, small for binary search probes.
    let chunk: Int
    /// Whose blocks these are, for the process's cache of decoded blocks.
    let ring: RingID

    static let walkChunk = 64 * 1024
    static let probeChunk = 4 * 1024

    init(file: RawFile, superblock: Superblock, chunk: Int = FrameWindow.walkChunk) {
        self.file = file
        checksum = Checksum(seed: superblock.checksumSeed)
        ring = superblock.id
        decodedLimit = Int(superblock.stagingCapacity)
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

    /// Lets go of a buffer grown past `size` for a large frame (a block stored raw).
    mutating func shrink(to size: Int) {
        guard buffer.count > size else { return }
        buffer = []
        count = 0
    }

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

    func withPayload<Result>(of frame: Frame, _ use: (UnsafeRawBufferPointer) -> Result) -> Result {
        buffer.withUnsafeBytes { use(UnsafeRawBufferPointer(rebasing: $0[frame.payloadStart..<(frame.payloadStart + Int(frame.header.length))])) }
    }

    /// How many records a frame stands for and their log payload bytes: a record frame one, a
    /// wrap none, a block what its header says (nil if its header cannot be a block's).
    func records(in frame: Frame) -> (count: UInt64, logBytes: UInt64)? {
        switch frame.header.type {
        case .wrap: return (0, 0)
        case .log: return (1, UInt64(frame.header.length))
        case .drop: return (1, 0)
        case .block:
            // A count that runs past the last sequence number cannot be ours (nor can a crafted one be added up).
            guard let header = blockHeader(of: frame),
                  !frame.header.seq.addingReportingOverflow(UInt64(header.records)).overflow
            else { return nil }
            return (UInt64(header.records), header.logBytes)
        }
    }

    /// The block header of a block frame.
    func blockHeader(of frame: Frame) -> BlockHeader? {
        frame.header.type == .block ? withPayload(of: frame) { BlockHeader($0) } : nil
    }

    /// A block frame's records, decoded and checked; nil when it does not decode to exactly
    /// what its header says (damage the checksum did not catch, or a hostile file).
    mutating func decode(_ frame: Frame) -> DecodedBlock? {
        let key = DecodedBlockCache.Key(ring: ring, offset: frame.offset, checksum: frame.header.checksum, seq: frame.header.seq,
                                        length: frame.header.length)
        if let cached = DecodedBlockCache.shared.block(key) { return cached }
        guard frame.header.type == .block, let block = withPayload(of: frame, { payload in
            DecodedBlock(payload: payload, codec: frame.header.stream, firstSeq: frame.header.seq,
                         firstTimestamp: frame.header.timestamp, decodedLimit: decodedLimit)
        }) else { return nil }
        DecodedBlockCache.shared.insert(block, for: key)
        return block
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
