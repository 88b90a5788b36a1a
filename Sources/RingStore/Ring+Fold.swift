/// Where a folded ring lives: an entry of its job's history file (docs/ring-format.md,
/// "History files").
struct FoldedPlace: Sendable {
    let history: HistoryFile
    let offset: UInt64
    /// The entry's bytes: what the run costs on disk.
    let size: UInt64
}

extension Ring {
    /// A folded ring, read from its history entry with the same reader as a ring file: its
    /// regions are the entry's, its id and sequence numbers the ring's, so cursors still resume.
    convenience init(folded entry: FoldedEntry, in history: HistoryFile) throws {
        try self.init(file: history.file, superblock: entry.superblock, state: entry.state, metadata: entry.metadata,
                      metadataGeneration: 1, checkpointGeneration: 1, writable: false,
                      folded: FoldedPlace(history: history, offset: entry.offset, size: entry.size))
    }

    /// This ring's readable frames laid flat for its job's history; nil when it keeps its ring
    /// file: folded already, not finished, an open block left, more than `maxBytes` of frames,
    /// or damage in its regions (read as gaps from its ring file, never copied).
    func foldImage(maxBytes: UInt64) throws -> FoldImage? {
        guard folded == nil, writable else { return nil }
        let (state, metadata, deleted) = shared.withLock { ($0.state, $0.metadata, $0.deleted) }
        let suffixBytes = state.prefixSealed ? state.used : 0
        guard !deleted, state.finished, state.stagingEnd == 0, state.blockedSeq == state.nextSeq,
              state.prefixEnd + suffixBytes <= maxBytes
        else { return nil }
        var window = FrameWindow(file: file, superblock: superblock)
        guard let prefix = try frames(of: Region.prefix(of: superblock, state), window: &window), UInt64(prefix.count) == state.prefixEnd,
              let suffix = try frames(of: Region.suffix(of: superblock, state), window: &window)
        else { return nil }
        var flat = state
        flat.tail = 0
        flat.head = UInt64(suffix.count)
        flat.used = flat.head
        flat.stagingHalf = 0
        flat.sourcePosition = []
        return FoldImage(id: id, superblock: superblock, state: flat, metadata: try Ring.encode(metadata), prefix: prefix, suffix: suffix)
    }

    /// A region's frames in order, unwrapped (wrap frames and the slack after them left out);
    /// nil at the first frame that is not intact.
    private func frames(of region: Region, window: inout FrameWindow) throws -> [UInt8]? {
        var walker = RegionWalker(region)
        var bytes: [UInt8] = []
        while true {
            switch try walker.step(&window) {
            case .end: return bytes
            case .damaged: return nil
            case let .frame(frame): bytes += try file.read(count: Int(frame.header.frameSize), at: frame.offset)
            }
        }
    }
}
