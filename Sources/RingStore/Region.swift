/// One of a ring's two regions as a reader sees it: the frames from `start` for `used` bytes,
/// wrapping at `capacity` (only the suffix ever wraps), holding sequence numbers `seqs`.
struct Region {
    let base: UInt64
    let capacity: UInt64
    let start: UInt64
    let used: UInt64
    let seqs: Range<UInt64>

    static func prefix(of superblock: Superblock, _ state: RingState) -> Region {
        Region(base: superblock.prefixStart, capacity: superblock.prefixCapacity, start: 0,
               used: state.prefixEnd, seqs: state.visiblePrefix)
    }

    static func suffix(of superblock: Superblock, _ state: RingState) -> Region {
        Region(base: superblock.suffixStart, capacity: superblock.suffixCapacity, start: state.tail,
               used: state.prefixSealed ? state.used : 0, seqs: state.visibleSuffix)
    }

    /// The open block's frames, in the staging half the state names (empty in version 1).
    static func staging(of superblock: Superblock, _ state: RingState) -> Region {
        Region(base: superblock.stagingStart + state.stagingHalf * superblock.stagingCapacity, capacity: superblock.stagingCapacity,
               start: 0, used: state.stagingEnd, seqs: state.visibleStaging)
    }

    func logical(ofAbsolute offset: UInt64) -> UInt64 {
        (offset - base + capacity - start) % capacity
    }
}

/// Walks a region's frames in order, across the wrap, reporting damage instead of guessing.
struct RegionWalker {
    enum Step {
        case frame(FrameWindow.Frame)
        case end
        case damaged
    }

    let region: Region
    /// Offset of the next frame, relative to the region's base.
    private(set) var offset: UInt64
    /// Logical bytes left before the region's end.
    private(set) var remaining: UInt64

    init(_ region: Region, logical: UInt64 = 0) {
        self.region = region
        offset = region.capacity == 0 ? 0 : (region.start + logical) % region.capacity
        remaining = region.used - Swift.min(logical, region.used)
    }

    var logical: UInt64 { region.used - remaining }

    private mutating func wrapToStart() {
        remaining -= Swift.min(remaining, region.capacity - offset)
        offset = 0
    }

    private mutating func advance(_ size: UInt64) {
        offset += size
        remaining -= size
        if offset == region.capacity { offset = 0 }
    }

    mutating func step(_ window: inout FrameWindow) throws -> Step {
        while remaining > 0 {
            if region.capacity - offset < UInt64(RingFormat.frameHeaderSize) {
                wrapToStart()
                continue
            }
            guard let frame = try window.frame(at: region.base + offset, limit: region.base + region.capacity) else {
                return .damaged
            }
            if frame.header.type == .wrap {
                wrapToStart()
                continue
            }
            guard frame.header.frameSize <= remaining else { return .damaged }
            advance(frame.header.frameSize)
            return .frame(frame)
        }
        return .end
    }

    /// The first valid record at or after the current position whose sequence number `accept`
    /// takes, searching no more than `maxScan` bytes; the walker then stands after it.
    mutating func resync(_ window: inout FrameWindow, maxScan: UInt64 = .max,
                         accept: (UInt64) -> Bool) throws -> FrameWindow.Frame? {
        let seqs = region.seqs
        let wanted: (FrameHeader) -> Bool = { $0.type != .wrap && seqs.contains($0.seq) && accept($0.seq) }
        var scanned: UInt64 = 0
        while remaining > 0, scanned < maxScan {
            let stretch = Swift.min(region.capacity - offset, remaining)
            let from = region.base + offset
            if let frame = try window.findFrame(from: from, limit: from + stretch, maxScan: maxScan - scanned, accept: wanted) {
                let skipped = frame.offset - from
                offset += skipped
                remaining -= skipped
                guard frame.header.frameSize <= remaining else { return nil }
                advance(frame.header.frameSize)
                return frame
            }
            scanned += stretch
            wrapToStart()
        }
        return nil
    }
}
