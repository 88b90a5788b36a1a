import Foundation
import Synchronization

/// Whose finished runs a history file holds: one job of one tool.
public struct JobKey: Hashable, Sendable {
    public var tool: String
    public var kind: RingKind
    public var name: String

    public init(tool: String, kind: RingKind, name: String) {
        self.tool = tool
        self.kind = kind
        self.name = name
    }

    init(_ metadata: RingMetadata) { self.init(tool: metadata.tool, kind: metadata.kind, name: metadata.name) }

    var encoded: [UInt8] { Array("\(tool)\u{0}\(kind.rawValue)\u{0}\(name)".utf8) }

    init?(decoding bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 3, let kind = RingKind(rawValue: parts[1]) else { return nil }
        self.init(tool: parts[0], kind: kind, name: parts[2])
    }
}

/// A finished ring's readable frames laid flat, ready to be appended to its job's history.
struct FoldImage {
    var id: RingID
    /// The ring file's superblock, as it was.
    var superblock: Superblock
    /// The ring's final state with its suffix unwrapped: tail 0, head = used = the suffix bytes.
    var state: RingState
    var metadata: RingMetadata
    var prefix: [UInt8]
    var suffix: [UInt8]
}

/// A folded ring as its history entry holds it: enough to read it as a ring.
struct FoldedEntry {
    var offset: UInt64
    var size: UInt64
    /// Laid out for reading inside the history file: regions at the entry's, capacities its bytes.
    var superblock: Superblock
    var state: RingState
    var metadata: RingMetadata
}

/// One job's finished runs, folded out of their ring files (docs/ring-format.md, "History
/// files"): entries appended after the committed end, erased in place, the oldest given back
/// from the front. One process writes it; readers `pread` the same descriptor.
final class HistoryFile: Sendable {
    let id: RingID
    let path: String
    let job: JobKey
    let file: RawFile
    let checksum: Checksum

    static let magic = Array("TFLHIST\u{0}".utf8)
    static let version: UInt16 = 1
    static let headerSize = 4096
    static let maxJobKey = 4000
    static let entriesStart: UInt64 = 8192
    static let entryHeaderSize: UInt64 = 64
    static let checkpointSlot = DoubleSlot(offsets: (4096, 4160), size: 64)
    static let fileSuffix = ".hist"
    static let erasedFlag: UInt32 = 1
    /// The descriptor is one zstd frame: its JSON and mostly-zero fields are half an entry of a
    /// small run otherwise (docs/ring-format.md, "History files").
    static let compressedDescriptorFlag: UInt32 = 2
    static let descriptorLevel: Int32 = 19
    static let maxDescriptor = 64 * 1024
    static let entryType: UInt32 = 1

    struct Entry {
        var offset: UInt64
        var size: UInt64
        var erased: Bool
    }

    private struct State {
        var start: UInt64
        var end: UInt64
        var generation: UInt64
        /// Entries from `start`, in file order: where erasing finds them, and how far the front can move.
        var entries: [Entry]
        var unsynced = false
        /// Pages before this are given back. The front is punched only once the checkpoint that
        /// moved `start` past it is on disk: punched earlier, power loss could leave the old
        /// checkpoint pointing at zeroed entry headers, and every run after them unreachable.
        var punchedTo: UInt64

        func index(of offset: UInt64) -> Int? {
            var low = 0, high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].offset < offset { low = middle + 1 } else { high = middle }
            }
            return low < entries.count && entries[low].offset == offset ? low : nil
        }
    }

    private let state: Mutex<State>

    private init(id: RingID, path: String, job: JobKey, file: RawFile, seed: UInt32, state: State) {
        self.id = id
        self.path = path
        self.job = job
        self.file = file
        checksum = Checksum(seed: seed)
        self.state = Mutex(state)
    }

    /// Creates an empty history for `job` in `directory`, synced with its directory entry.
    static func create(in directory: String, job: JobKey, now: Int64) throws -> HistoryFile {
        let key = job.encoded
        guard key.count <= maxJobKey else { throw RingStoreError.metadataTooLarge(bytes: key.count, limit: maxJobKey) }
        let id = RingID.random()
        let path = "\(directory)/\(id)\(fileSuffix)"
        let seed = UInt32.random(in: 0...UInt32.max)
        let file = try RawFile(path: path, mode: .create)
        do {
            try file.lockExclusive()
            var header = magic
            header.appendLE(version)
            header.appendLE(UInt16(0))
            header.appendLE(seed)
            header.append(contentsOf: id.bytes)
            header.appendLE(now)
            header.appendLE(UInt32(key.count))
            header.append(contentsOf: key)
            header.append(contentsOf: [UInt8](repeating: 0, count: headerSize - 4 - header.count))
            header.appendLE(Checksum(seed: 0).of(header))
            try file.write(header, at: 0)
            try checkpointSlot.write(bounds(start: entriesStart, end: entriesStart), generation: 1, to: file, checksum: Checksum(seed: seed))
            try file.syncData()
            try RawFile(path: directory, mode: .directory).syncData()
        } catch {
            unlink(path)
            throw error
        }
        return HistoryFile(id: id, path: path, job: job, file: file, seed: seed,
                           state: State(start: entriesStart, end: entriesStart, generation: 1, entries: [], punchedTo: entriesStart))
    }

    /// Opens a history for writing and returns the folded rings it holds. What was appended after
    /// the committed end is cut off; erased entries are given back again (a crash may have come
    /// between the mark and the punch). Damage that cannot be walked past ends the walk, in `problems`.
    static func open(path: String) throws -> (history: HistoryFile, entries: [FoldedEntry], problems: [String]) {
        let file = try RawFile(path: path, mode: .readWrite)
        try file.lockExclusive()
        let header = try file.read(count: headerSize, at: 0)
        guard Array(header[0..<8]) == magic else { throw RingStoreError.notARingFile(path: path) }
        guard Checksum(seed: 0).of(Array(header[0..<(headerSize - 4)])) == header.loadLE(UInt32.self, at: headerSize - 4) else {
            throw RingStoreError.corruptHeader(path: path)
        }
        let major = header.loadLE(UInt16.self, at: 8)
        guard major == version else { throw RingStoreError.unsupportedVersion(path: path, major: major) }
        let seed = header.loadLE(UInt32.self, at: 12)
        let keyLength = Int(header.loadLE(UInt32.self, at: 40))
        guard keyLength <= maxJobKey, let job = JobKey(decoding: Array(header[44..<(44 + keyLength)])),
              let (generation, payload) = try checkpointSlot.read(from: file, checksum: Checksum(seed: seed)), payload.count == 16
        else { throw RingStoreError.corruptHeader(path: path) }
        let start = payload.loadLE(UInt64.self, at: 0), end = payload.loadLE(UInt64.self, at: 8)
        guard start >= entriesStart, start <= end else { throw RingStoreError.corruptHeader(path: path) }
        if try file.size() > end { try file.truncate(to: end) }
        if start > entriesStart { try file.erase(at: entriesStart, count: pageAligned(start) - entriesStart) }

        let history = HistoryFile(id: RingID(bytes: Array(header[16..<32])), path: path, job: job, file: file, seed: seed,
                                  state: State(start: start, end: end, generation: generation, entries: [],
                                               punchedTo: pageAligned(start)))
        var entries: [Entry] = []
        var folded: [FoldedEntry] = []
        var problems: [String] = []
        var offset = start
        while offset < end {
            guard let (size, flags, descriptor) = try history.entryHeader(at: offset, end: end) else {
                // The next entry is found by its checksum: with the file's own seed, no logged
                // byte can pass for an entry header.
                guard let next = try history.nextEntry(after: offset, end: end) else {
                    problems.append("\(path): the entry at \(offset) is damaged, and no entry follows it")
                    break
                }
                problems.append("\(path): \(next - offset) damaged bytes at \(offset) skipped")
                offset = next
                continue
            }
            // An entry that cannot be read counts as erased: nothing refers to it, and the front
            // moves past it with its neighbours.
            var readable = false
            if flags & erasedFlag != 0 {
                try file.erase(at: offset + entryHeaderSize, count: size - entryHeaderSize)
            } else if let entry = try history.decodeEntry(at: offset, size: size, flags: flags, descriptor: descriptor) {
                folded.append(entry)
                readable = true
            } else {
                problems.append("\(path): the entry at \(offset) has a damaged descriptor; its run is left out")
            }
            entries.append(Entry(offset: offset, size: size, erased: !readable))
            offset += size
        }
        history.state.withLock { $0.entries = entries }
        return (history, folded, problems)
    }

    private static func bounds(start: UInt64, end: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.appendLE(start)
        bytes.appendLE(end)
        return bytes
    }

    private static func pageAligned(_ offset: UInt64) -> UInt64 { offset / 4096 * 4096 }

    /// The entry header at `offset`: its size, flags and descriptor fields; nil when it fails its
    /// checksum or does not fit before `end`.
    private func entryHeader(at offset: UInt64, end: UInt64) throws -> (UInt64, UInt32, (crc: UInt32, length: UInt64, state: Int, prefix: UInt64, suffix: UInt64))? {
        let bytes = try file.read(count: Int(HistoryFile.entryHeaderSize), at: offset)
        let size = bytes.loadLE(UInt64.self, at: 8)
        guard checksum.of(Array(bytes[4...])) == bytes.loadLE(UInt32.self, at: 0),
              bytes.loadLE(UInt32.self, at: 4) == HistoryFile.entryType,
              size >= HistoryFile.entryHeaderSize, size % RingFormat.frameAlignment == 0, size <= end - offset
        else { return nil }
        let descriptor = (crc: bytes.loadLE(UInt32.self, at: 36), length: UInt64(bytes.loadLE(UInt32.self, at: 40)),
                          state: Int(bytes.loadLE(UInt32.self, at: 44)), prefix: bytes.loadLE(UInt64.self, at: 48),
                          suffix: bytes.loadLE(UInt64.self, at: 56))
        return (size, bytes.loadLE(UInt32.self, at: 32), descriptor)
    }

    /// The first offset after `offset` (8-byte aligned) where an intact entry header starts.
    private func nextEntry(after offset: UInt64, end: UInt64) throws -> UInt64? {
        let chunk = 64 * 1024
        var from = offset + RingFormat.frameAlignment
        while from + HistoryFile.entryHeaderSize <= end {
            let bytes = try file.read(count: chunk + Int(HistoryFile.entryHeaderSize), at: from)
            var position = 0
            while position < chunk, from + UInt64(position) + HistoryFile.entryHeaderSize <= end {
                let header = Array(bytes[position..<(position + Int(HistoryFile.entryHeaderSize))])
                if header.loadLE(UInt32.self, at: 4) == HistoryFile.entryType, try entryHeader(at: from + UInt64(position), end: end) != nil {
                    return from + UInt64(position)
                }
                position += Int(RingFormat.frameAlignment)
            }
            from += UInt64(chunk)
        }
        return nil
    }

    private func decodeEntry(at offset: UInt64, size: UInt64, flags: UInt32,
                             descriptor: (crc: UInt32, length: UInt64, state: Int, prefix: UInt64, suffix: UInt64)) throws -> FoldedEntry? {
        // Sizes from the disk passed a checksum, but are added with care all the same.
        guard descriptor.length <= size, descriptor.prefix <= size, descriptor.suffix <= size else { return nil }
        let regionsAt = offset + HistoryFile.entryHeaderSize + alignedUp(descriptor.length, to: RingFormat.frameAlignment)
        guard regionsAt + descriptor.prefix + descriptor.suffix == offset + size else { return nil }
        let stored = try file.read(count: Int(descriptor.length), at: offset + HistoryFile.entryHeaderSize)
        guard checksum.of(stored) == descriptor.crc else { return nil }
        let bytes: [UInt8]
        if flags & HistoryFile.compressedDescriptorFlag != 0 {
            // The checksum passed, but the bytes are still only trusted as far as the cap.
            guard let decoded = stored.withUnsafeBytes({ raw in
                BlockCodec.declaredSize(raw).flatMap { $0 <= HistoryFile.maxDescriptor ? BlockCodec.decompress(raw, size: $0) : nil }
            }) else { return nil }
            bytes = decoded
        } else {
            bytes = stored
        }
        guard bytes.count >= RingFormat.superblockSize + descriptor.state,
              var superblock = try? Superblock.decode(Array(bytes[0..<RingFormat.superblockSize]), path: path),
              let state = RingState.decode(Array(bytes[RingFormat.superblockSize..<(RingFormat.superblockSize + descriptor.state)]),
                                           version: superblock.version),
              let metadata = try? JSONDecoder().decode(RingMetadata.self, from: Data(bytes[(RingFormat.superblockSize + descriptor.state)...]))
        else { return nil }
        // The state must be the flat one a fold writes, or the reader would walk outside the entry.
        guard state.prefixEnd == descriptor.prefix, state.tail == 0, state.head == state.used, state.stagingEnd == 0,
              state.blockedSeq == state.nextSeq, state.used == (state.prefixSealed ? descriptor.suffix : 0), state.finished
        else { return nil }
        superblock.regionsAt = regionsAt
        superblock.prefixCapacity = descriptor.prefix
        superblock.suffixCapacity = descriptor.suffix
        return FoldedEntry(offset: offset, size: size, superblock: superblock, state: state, metadata: metadata)
    }

    /// Appends `images` and commits them: the entries are synced, then the checkpoint that
    /// makes them exist. A crash before the checkpoint leaves the file as it was.
    func append(_ images: [FoldImage]) throws -> [FoldedEntry] {
        try state.withLock { state in
            var bytes: [UInt8] = []
            var folded: [FoldedEntry] = []
            for image in images {
                let offset = state.end + UInt64(bytes.count)
                let state = image.state.encoded(image.superblock.version)
                let plain = try image.superblock.encoded() + state + Ring.encode(image.metadata)
                let compressed = plain.withUnsafeBytes { BlockCodec.compress($0, level: HistoryFile.descriptorLevel) }
                let descriptor = compressed ?? plain
                let descriptorSpace = alignedUp(UInt64(descriptor.count), to: RingFormat.frameAlignment)
                let size = HistoryFile.entryHeaderSize + descriptorSpace + UInt64(image.prefix.count + image.suffix.count)
                var header = [UInt8]()
                header.appendLE(UInt32(0))
                header.appendLE(HistoryFile.entryType)
                header.appendLE(size)
                header.append(contentsOf: image.id.bytes)
                header.appendLE(compressed == nil ? 0 : HistoryFile.compressedDescriptorFlag)
                header.appendLE(checksum.of(descriptor))
                header.appendLE(UInt32(descriptor.count))
                header.appendLE(UInt32(state.count))
                header.appendLE(UInt64(image.prefix.count))
                header.appendLE(UInt64(image.suffix.count))
                header.storeLE(checksum.of(Array(header[4...])), at: 0)
                bytes += header
                bytes += descriptor
                bytes += repeatElement(0, count: Int(descriptorSpace) - descriptor.count)
                bytes += image.prefix
                bytes += image.suffix
                var superblock = image.superblock
                superblock.regionsAt = offset + HistoryFile.entryHeaderSize + descriptorSpace
                superblock.prefixCapacity = UInt64(image.prefix.count)
                superblock.suffixCapacity = UInt64(image.suffix.count)
                folded.append(FoldedEntry(offset: offset, size: size, superblock: superblock, state: image.state, metadata: image.metadata))
            }
            try file.write(bytes, at: state.end)
            try file.syncData()
            let end = state.end + UInt64(bytes.count)
            try HistoryFile.checkpointSlot.write(HistoryFile.bounds(start: state.start, end: end), generation: state.generation + 1,
                                                 to: file, checksum: checksum)
            try file.syncData()
            state.generation += 1
            state.end = end
            state.entries += folded.map { Entry(offset: $0.offset, size: $0.size, erased: false) }
            return folded
        }
    }

    /// Erases the entry at `offset`: marks it erased, then gives its bytes back (zeros where
    /// the file system cannot punch); `sync()` puts that on disk. When the oldest entries are
    /// all erased, the front moves past them. Returns whether the history holds no entry any more.
    @discardableResult
    func erase(at offset: UInt64) throws -> Bool {
        try state.withLock { state in
            guard let index = state.index(of: offset), !state.entries[index].erased else { return state.entries.allSatisfy(\.erased) }
            let entry = state.entries[index]
            var header = try file.read(count: Int(HistoryFile.entryHeaderSize), at: offset)
            header.storeLE(header.loadLE(UInt32.self, at: 32) | HistoryFile.erasedFlag, at: 32)
            header.storeLE(checksum.of(Array(header[4...])), at: 0)
            try file.write(header, at: offset)
            try file.erase(at: offset + HistoryFile.entryHeaderSize, count: entry.size - HistoryFile.entryHeaderSize)
            state.entries[index].erased = true
            let gone = state.entries.prefix { $0.erased }.count
            if gone > 0 {
                let start = gone == state.entries.count ? state.end : state.entries[gone].offset
                try HistoryFile.checkpointSlot.write(HistoryFile.bounds(start: start, end: state.end), generation: state.generation + 1,
                                                     to: file, checksum: checksum)
                state.generation += 1
                state.start = start
                state.entries.removeFirst(gone)
            }
            state.unsynced = true
            return state.entries.isEmpty
        }
    }

    /// Forces erasures made without `durable` to disk, then gives back the front they released.
    func sync() throws {
        try state.withLock { state in
            try sync(&state)
        }
    }

    private func sync(_ state: inout State) throws {
        if state.unsynced {
            // Cleared first: the flag is set again below if the sync fails.
            state.unsynced = false
            do {
                try file.syncData()
            } catch {
                state.unsynced = true
                throw error
            }
        }
        let front = HistoryFile.pageAligned(state.start)
        if front > state.punchedTo {
            try file.erase(at: state.punchedTo, count: front - state.punchedTo)
            state.punchedTo = front
        }
    }

    /// Removes the file: it holds no entry any more.
    func remove() { unlink(path) }
}
