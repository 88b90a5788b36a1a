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
    /// What its record keeps of it (`FoldedRun`).
    var info: RingInfo
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
/// from the front; and beside it the run index, a record per entry ("The run index"). One
/// process writes both; readers `pread` the same descriptors.
final class HistoryFile: Sendable {
    let id: RingID
    /// Its number in the directory, which the folded runs' table names it by.
    let number: UInt32
    let path: String
    let job: JobKey
    let file: RawFile
    let checksum: Checksum
    private let index: RawFile

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
    /// Records are read in pieces of this size: a job's index is read whole to list its runs.
    static let indexChunk = 256 * 1024
    /// The index's first page (its header) is never given back; pages of erased records after it are.
    static let indexPageSize = 4096

    /// What a history keeps, without reading a record: what retention and the usage report need.
    struct Tally: Equatable {
        /// Folded runs (segments) not erased, and their entries' bytes.
        var runs = 0
        var bytes: UInt64 = 0
        var keptBytes: UInt64 = 0
        /// The end of the first run not erased: the oldest, as folds go in the order runs ended.
        var oldestEnd: Int64?
    }

    private struct State {
        var start: UInt64
        var end: UInt64
        var generation: UInt64
        var unsynced = false
        /// Pages before this are given back. The front is punched only once the checkpoint that
        /// moved `start` past it is on disk: punched earlier, power loss could leave the old
        /// checkpoint pointing at zeroed entry headers, and every run after them unreachable.
        var punchedTo: UInt64
        /// Where the next record goes, and the first record not erased (`indexEnd` when none).
        var indexEnd: UInt64
        var front: UInt64
        var indexUnsynced = false
        /// Index pages before this are given back: they held only erased records.
        var indexPunchedTo = UInt64(HistoryFile.indexPageSize)
        var tally = Tally()
        /// Damage was found in the entries: read, never appended to.
        var damaged = false
    }

    private let state: Mutex<State>

    private init(id: RingID, number: UInt32, path: String, job: JobKey, file: RawFile, index: RawFile, seed: UInt32, state: State) {
        self.id = id
        self.number = number
        self.path = path
        self.job = job
        self.file = file
        self.index = index
        checksum = Checksum(seed: seed)
        self.state = Mutex(state)
    }

    static func indexPath(of path: String) -> String { String(path.dropLast(fileSuffix.count)) + RunIndexHeader.fileSuffix }

    var tally: Tally { state.withLock { $0.tally } }
    var isDamaged: Bool { state.withLock { $0.damaged } }

    /// Creates an empty history for `job` in `directory`, and its index, synced with their directory entries.
    static func create(in directory: String, number: UInt32, job: JobKey, now: Int64) throws -> HistoryFile {
        let key = job.encoded
        guard key.count <= maxJobKey else { throw RingStoreError.metadataTooLarge(bytes: key.count, limit: maxJobKey) }
        let id = RingID.random()
        let path = "\(directory)/\(id)\(fileSuffix)"
        let seed = UInt32.random(in: 0...UInt32.max)
        let file = try RawFile(path: path, mode: .create)
        let index: RawFile
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
            index = try newIndex(at: indexPath(of: path), history: id)
            try file.syncData()
            try index.syncData()
            try RawFile(path: directory, mode: .directory).syncData()
        } catch {
            unlink(path)
            unlink(indexPath(of: path))
            throw error
        }
        let recordsStart = UInt64(RunIndexHeader.size)
        return HistoryFile(id: id, number: number, path: path, job: job, file: file, index: index, seed: seed,
                           state: State(start: entriesStart, end: entriesStart, generation: 1, punchedTo: entriesStart,
                                        indexEnd: recordsStart, front: recordsStart))
    }

    /// An empty index, replacing whatever was at `path`.
    private static func newIndex(at path: String, history: RingID) throws -> RawFile {
        unlink(path)
        let index = try RawFile(path: path, mode: .create)
        try index.write(RunIndexHeader.encode(history: history), at: 0)
        return index
    }

    /// Opens a history for writing, and its index; `each` is given every run it holds. What
    /// was appended after the committed end is cut off, in both. Records are trusted as far as
    /// they pass their checksums and follow one another; the entries after the last of them are
    /// walked and indexed again (all of them for a history of a release before the index). In
    /// that walk, erased entries are given back again (a crash may have come between the mark and
    /// the punch), and damage that cannot be walked past ends it, in `problems`.
    static func open(path: String, number: UInt32, walked: (RingMetadata) -> Void = { _ in }, each: (RunRecord) -> Void) throws -> (history: HistoryFile, problems: [String]) {
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

        let id = RingID(bytes: Array(header[16..<32]))
        let indexPath = indexPath(of: path)
        let existing = try? RawFile(path: indexPath, mode: .readWrite)
        let index = try existing.flatMap { try RunIndexHeader.isValid($0.read(count: RunIndexHeader.size, at: 0), history: id) ? $0 : nil }
            ?? newIndex(at: indexPath, history: id)
        let recordsStart = UInt64(RunIndexHeader.size)
        let history = HistoryFile(id: id, number: number, path: path, job: job, file: file, index: index, seed: seed,
                                  state: State(start: start, end: end, generation: generation, punchedTo: pageAligned(start),
                                               indexEnd: recordsStart, front: recordsStart))
        let problems = try history.state.withLock { state in
            try history.load(&state, walked: walked, each: each)
        }
        return (history, problems)
    }

    /// Reads the index and indexes the entries past it (see `open`), counting what is kept.
    private func load(_ state: inout State, walked: (RingMetadata) -> Void, each: (RunRecord) -> Void) throws -> [String] {
        var covered = state.start
        var front: UInt64?
        func take(_ record: RunRecord) {
            guard !record.erased, record.entryOffset >= state.start else { return }
            if front == nil {
                front = record.at
                state.tally.oldestEnd = record.run.endedAt
            }
            state.tally.runs += 1
            state.tally.bytes += record.run.diskBytes
            state.tally.keptBytes += record.run.keptBytes
            each(record)
        }
        var previousEnd = HistoryFile.entriesStart
        func chain(_ record: RunRecord) -> Bool {
            guard record.entryOffset >= previousEnd, record.entryEnd <= state.end else { return false }
            previousEnd = record.entryEnd
            covered = max(covered, record.entryEnd)
            take(record)
            return true
        }
        state.indexEnd = try readRecords(from: UInt64(RunIndexHeader.size), chain)
        // Pages of erased records given back at the front: the chain goes on after the hole.
        while let next = try recordAfterHole(at: state.indexEnd) { state.indexEnd = try readRecords(from: next, chain) }
        if try index.size() > state.indexEnd { try index.truncate(to: state.indexEnd) }
        var problems: [String] = []
        var offset = covered
        while offset < state.end {
            guard let (size, flags, descriptor) = try entryHeader(at: offset, end: state.end) else {
                // The next entry is found by its checksum: with the file's own seed, no logged
                // byte can pass for an entry header.
                state.damaged = true
                guard let next = try nextEntry(after: offset, end: state.end) else {
                    problems.append("\(path): the entry at \(offset) is damaged, and no entry follows it")
                    break
                }
                problems.append("\(path): \(next - offset) damaged bytes at \(offset) skipped")
                offset = next
                continue
            }
            if flags & HistoryFile.erasedFlag != 0 {
                try file.erase(at: offset + HistoryFile.entryHeaderSize, count: size - HistoryFile.entryHeaderSize)
            } else if let entry = try decodeEntry(at: offset, size: size, flags: flags, descriptor: descriptor) {
                let run = FoldedRun(try Ring(folded: entry, in: self, record: state.indexEnd).info(), diskBytes: size)
                let bytes = RunRecord.encode(run, entryOffset: offset, checksum: checksum)
                try index.write(bytes, at: state.indexEnd)
                take(RunRecord(run: run, entryOffset: offset, erased: false, at: state.indexEnd, size: bytes.count))
                walked(entry.metadata)
                state.indexEnd += UInt64(bytes.count)
                state.indexUnsynced = true
            } else {
                state.damaged = true
                problems.append("\(path): the entry at \(offset) has a damaged descriptor; its run is left out")
            }
            offset += size
        }
        state.front = front ?? state.indexEnd
        return problems
    }

    /// Where the chain of records goes on when it stops at `offset` on a hole (a page of erased
    /// records given back, read as zeros): the first record intact in the first page after it
    /// that is not a hole. Nil when `offset` is not a hole, or nothing follows it.
    private func recordAfterHole(at offset: UInt64) throws -> UInt64? {
        guard try index.read(count: 8, at: offset) == [UInt8](repeating: 0, count: 8) else { return nil }
        let size = try index.size()
        var page = HistoryFile.pageAligned(offset)
        while page < size {
            let bytes = try index.read(count: HistoryFile.indexPageSize, at: page)
            if bytes.contains(where: { $0 != 0 }) {
                // A record cut by the page before is not whole here, and fails its checksum.
                for candidate in stride(from: max(page, offset), to: page + UInt64(HistoryFile.indexPageSize), by: Int(RingFormat.frameAlignment))
                where try record(at: candidate) != nil {
                    return candidate
                }
                return nil
            }
            page += UInt64(HistoryFile.indexPageSize)
        }
        return nil
    }

    /// Reads records in order from `from` while `accept` takes them; returns where the first
    /// record it did not take (or the end of the index) is.
    private func readRecords(from: UInt64, to limit: UInt64 = .max, _ accept: (RunRecord) throws -> Bool) throws -> UInt64 {
        var offset = from
        while offset < limit {
            let wanted = Int(min(UInt64(HistoryFile.indexChunk), limit - offset))
            var chunk = [UInt8](repeating: 0, count: wanted)
            let count = try chunk.withUnsafeMutableBytes { try index.read(into: $0, at: offset) }
            let last = count < wanted || offset + UInt64(count) >= limit
            var position = 0
            var stopped = false
            try chunk.withUnsafeBytes { raw in
                let read = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                while position < read.count {
                    // A record the chunk cuts is read again from its start.
                    if !last && read.count - position < RunRecord.maxSize { return }
                    guard let record = RunRecord.decode(UnsafeRawBufferPointer(rebasing: read[position...]), at: offset + UInt64(position),
                                                        job: job, checksum: checksum),
                          try accept(record)
                    else {
                        stopped = true
                        return
                    }
                    position += record.size
                }
            }
            offset += UInt64(position)
            if stopped || last { return offset }
        }
        return offset
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
        guard bytes.count == Int(HistoryFile.entryHeaderSize) else { return nil }
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

    /// Appends `images` and commits them: the entries and their records are synced, then the
    /// checkpoint that makes them exist. A crash before the checkpoint leaves the file as it
    /// was, and the records past its end are cut off on open.
    func append(_ images: [FoldImage]) throws -> [RunRecord] {
        try state.withLock { state in
            var bytes: [UInt8] = []
            var indexBytes: [UInt8] = []
            var records: [RunRecord] = []
            for image in images {
                let offset = state.end + UInt64(bytes.count)
                let encodedState = image.state.encoded(image.superblock.version)
                let plain = try image.superblock.encoded() + encodedState + Ring.encode(image.metadata)
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
                header.appendLE(UInt32(encodedState.count))
                header.appendLE(UInt64(image.prefix.count))
                header.appendLE(UInt64(image.suffix.count))
                header.storeLE(checksum.of(Array(header[4...])), at: 0)
                bytes += header
                bytes += descriptor
                bytes += repeatElement(0, count: Int(descriptorSpace) - descriptor.count)
                bytes += image.prefix
                bytes += image.suffix
                let run = FoldedRun(image.info, diskBytes: size)
                let record = RunRecord.encode(run, entryOffset: offset, checksum: checksum)
                records.append(RunRecord(run: run, entryOffset: offset, erased: false, at: state.indexEnd + UInt64(indexBytes.count),
                                         size: record.count))
                indexBytes += record
            }
            try file.write(bytes, at: state.end)
            try index.write(indexBytes, at: state.indexEnd)
            try file.syncData()
            try index.syncData()
            let end = state.end + UInt64(bytes.count)
            try HistoryFile.checkpointSlot.write(HistoryFile.bounds(start: state.start, end: end), generation: state.generation + 1,
                                                 to: file, checksum: checksum)
            try file.syncData()
            state.generation += 1
            state.end = end
            state.indexEnd += UInt64(indexBytes.count)
            if state.tally.runs == 0 { state.tally.oldestEnd = records.first?.run.endedAt }
            for record in records {
                state.tally.runs += 1
                state.tally.bytes += record.run.diskBytes
                state.tally.keptBytes += record.run.keptBytes
            }
            return records
        }
    }

    /// The record at `offset` in the index; nil when none is whole there.
    func record(at offset: UInt64) throws -> RunRecord? {
        var bytes = [UInt8](repeating: 0, count: RunRecord.maxSize)
        let count = try bytes.withUnsafeMutableBytes { try index.read(into: $0, at: offset) }
        return bytes.withUnsafeBytes { RunRecord.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]), at: offset, job: job, checksum: checksum) }
    }

    /// Whether the run whose record is at `offset` was erased: its flag, or its page given back
    /// (only erased records lie before the front). A read that fails counts as erased.
    func isErased(recordAt offset: UInt64) -> Bool {
        guard let head = try? index.read(count: 8, at: offset) else { return true }
        return head[RunRecord.flagsOffset] & RunRecord.erasedFlag != 0 || head.allSatisfy { $0 == 0 }
    }

    /// Every run kept, oldest fold first: the index read from its first live record.
    func records() throws -> [RunRecord] { try records(from: nil).records }

    /// Up to `count` runs kept, oldest fold first, from the record at `from` (nil: the first
    /// live one); and where the next record is.
    /// Read without the lock: when the front moves meanwhile and the pages before it are given
    /// back, the read goes on from the new front.
    func records(from: UInt64?, count: Int = .max) throws -> (records: [RunRecord], next: UInt64) {
        let (front, limit, start) = state.withLock { ($0.front, $0.indexEnd, $0.start) }
        var records: [RunRecord] = []
        var offset = max(from ?? front, front)
        while true {
            offset = try readRecords(from: offset, to: limit) { record in
                guard records.count < count else { return false }
                if !record.erased, record.entryOffset >= start { records.append(record) }
                return true
            }
            let moved = state.withLock { $0.front }
            guard offset < limit, records.count < count, moved > offset else { return (records, offset) }
            offset = moved
        }
    }

    /// The run `record` names, read as a ring from its entry; nil when its entry is erased (a
    /// crash came between marking it and its record: retention or a purge marks the record) or
    /// does not decode.
    func ring(_ record: RunRecord) throws -> Ring? {
        let end = state.withLock { $0.end }
        guard let (size, flags, descriptor) = try entryHeader(at: record.entryOffset, end: end),
              flags & HistoryFile.erasedFlag == 0
        else { return nil }
        guard let entry = try decodeEntry(at: record.entryOffset, size: size, flags: flags, descriptor: descriptor),
              entry.superblock.id == record.run.id
        else { return nil }
        return try Ring(folded: entry, in: self, record: record.at)
    }

    /// Erases the run whose record is at `offset`: its entry is marked erased and its bytes
    /// given back (zeros where the file system cannot punch), then its record is marked;
    /// `sync()` puts both on disk. When the oldest runs are all erased, the front moves past
    /// them. Returns whether the history holds no run any more.
    @discardableResult
    func erase(recordAt offset: UInt64) throws -> Bool {
        try state.withLock { state in
            var bytes = try index.read(count: RunRecord.maxSize, at: offset)
            guard let record = bytes.withUnsafeBytes({ RunRecord.decode($0, at: offset, job: job, checksum: checksum) }), !record.erased
            else { return state.tally.runs == 0 }
            if record.entryOffset >= state.start, let (size, flags, _) = try entryHeader(at: record.entryOffset, end: state.end),
               try file.read(count: 16, at: record.entryOffset + 16) == record.run.id.bytes {
                if flags & HistoryFile.erasedFlag == 0 {
                    var header = try file.read(count: Int(HistoryFile.entryHeaderSize), at: record.entryOffset)
                    header.storeLE(flags | HistoryFile.erasedFlag, at: 32)
                    header.storeLE(checksum.of(Array(header[4...])), at: 0)
                    try file.write(header, at: record.entryOffset)
                }
                try file.erase(at: record.entryOffset + HistoryFile.entryHeaderSize, count: size - HistoryFile.entryHeaderSize)
                state.unsynced = true
            }
            bytes = Array(bytes[0..<record.size])
            bytes[RunRecord.flagsOffset] |= RunRecord.erasedFlag
            bytes.storeLE(checksum.of(Array(bytes[4...])), at: 0)
            try index.write(bytes, at: offset)
            state.indexUnsynced = true
            state.tally.runs -= 1
            state.tally.bytes -= record.run.diskBytes
            state.tally.keptBytes -= min(record.run.keptBytes, state.tally.keptBytes)
            if offset == state.front { try advanceFront(&state) }
            return state.tally.runs == 0
        }
    }

    /// Moves the front to the first run not erased, and the committed start to its entry.
    private func advanceFront(_ state: inout State) throws {
        let start = state.start
        var front: RunRecord?
        let stop = try readRecords(from: state.front, to: state.indexEnd) { record in
            guard record.erased || record.entryOffset < start else {
                front = record
                return false
            }
            return true
        }
        // A record that does not read is no proof that the runs after it are gone: the
        // history is what counts, and the next start indexes it again.
        guard front != nil || stop >= state.indexEnd else { return }
        state.front = front?.at ?? state.indexEnd
        state.tally.oldestEnd = front?.run.endedAt
        let newStart = front?.entryOffset ?? state.end
        guard newStart > state.start else { return }
        try HistoryFile.checkpointSlot.write(HistoryFile.bounds(start: newStart, end: state.end), generation: state.generation + 1,
                                             to: file, checksum: checksum)
        state.generation += 1
        state.start = newStart
        state.unsynced = true
    }

    /// Forces erasures made without `durable` to disk, then gives back the front they released.
    func sync() throws {
        try state.withLock { state in
            try HistoryFile.sync(file, if: &state.unsynced)
            try HistoryFile.sync(index, if: &state.indexUnsynced)
            let front = HistoryFile.pageAligned(state.start)
            if front > state.punchedTo {
                try file.erase(at: state.punchedTo, count: front - state.punchedTo)
                state.punchedTo = front
            }
            // Only erased records lie before the front; the start finds the first after them.
            let indexFront = HistoryFile.pageAligned(state.front)
            if indexFront > state.indexPunchedTo {
                try index.erase(at: state.indexPunchedTo, count: indexFront - state.indexPunchedTo)
                state.indexPunchedTo = indexFront
            }
        }
    }

    /// Syncs `file` if `unsynced` says so, and clears it; set again if the sync fails.
    private static func sync(_ file: RawFile, if unsynced: inout Bool) throws {
        guard unsynced else { return }
        unsynced = false
        do {
            try file.syncData()
        } catch {
            unsynced = true
            throw error
        }
    }

    /// Removes the file and its index: it holds no run any more.
    func remove() {
        unlink(path)
        unlink(HistoryFile.indexPath(of: path))
    }
}
