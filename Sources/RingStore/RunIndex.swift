import Foundation

/// A folded run as its index record says: what listing a job's runs, choosing the runs a read
/// needs and retention use, without decoding the run's entry (docs/ring-format.md, "The run index").
public struct FoldedRun: Sendable, Equatable {
    public var id: RingID
    public var job: JobKey
    public var run: String
    public var segment: Int
    public var startedAt: Int64?
    /// Finished at, else the last record's time, else created at: what retention orders by.
    public var endedAt: Int64
    public var exitCode: Int32?
    /// Killed for its memory: a failed run whatever its exit code.
    public var oomKilled: Bool
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// Records the run keeps (never more: its positions less what rolled over or was dropped).
    public var keptRecords: UInt64
    /// Log bytes the run keeps, before compression.
    public var keptBytes: UInt64
    /// Its entry's bytes in the history file.
    public var diskBytes: UInt64

    /// What a finished ring's state says, as its record keeps it.
    init(_ info: RingInfo, diskBytes: UInt64) {
        let metadata = info.metadata
        let counters = info.counters
        let firstSeq = info.prefixRecords.isEmpty ? info.suffixRecords.lowerBound : 0
        let written = counters.recordsWritten - Swift.min(counters.rolledRecords + counters.droppedRecords, counters.recordsWritten)
        self.init(id: info.id, job: JobKey(metadata), run: metadata.run, segment: metadata.segment, startedAt: metadata.startedAt,
                  endedAt: metadata.finishedAt ?? info.lastTimestamp ?? info.createdAt, exitCode: metadata.exitCode,
                  oomKilled: metadata.reason == "OOMKilled", firstTimestamp: info.firstTimestamp, lastTimestamp: info.lastTimestamp,
                  keptRecords: Swift.min(info.nextSeq - Swift.min(firstSeq, info.nextSeq), written), keptBytes: info.keptBytes,
                  diskBytes: diskBytes)
    }

    public init(id: RingID, job: JobKey, run: String, segment: Int, startedAt: Int64?, endedAt: Int64, exitCode: Int32?,
                oomKilled: Bool, firstTimestamp: Int64?, lastTimestamp: Int64?, keptRecords: UInt64, keptBytes: UInt64,
                diskBytes: UInt64) {
        self.id = id
        self.job = job
        self.run = run
        self.segment = segment
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.keptRecords = keptRecords
        self.keptBytes = keptBytes
        self.diskBytes = diskBytes
    }
}

/// One record of a history's run index: a folded run, where its entry is, and whether it was erased.
struct RunRecord {
    var run: FoldedRun
    var entryOffset: UInt64
    var erased: Bool
    /// Where the record itself is, in the index file.
    var at: UInt64
    var size: Int

    var entryEnd: UInt64 { entryOffset + run.diskBytes }

    static let fixedSize = 64
    static let maxRunName = 255
    static let maxSize = Int(alignedUp(UInt64(fixedSize + maxRunName), to: RingFormat.frameAlignment))
    static let minSize = Int(alignedUp(UInt64(fixedSize), to: RingFormat.frameAlignment))
    static let erasedFlag: UInt8 = 1
    static let exitCodeFlag: UInt8 = 2
    static let oomKilledFlag: UInt8 = 4
    /// The run's name is its job's, a dash, then what the record keeps ("tick-29412345").
    static let jobPrefixFlag: UInt8 = 8
    /// The start is unknown: the base time is the end.
    static let noStartFlag: UInt8 = 16
    /// Times other than the base are in microseconds from it, or in the unit these two bits
    /// say when that does not fit (a run that spans more than 35 minutes): 1 milliseconds,
    /// 2 seconds.
    static let unitShift: UInt8 = 5
    static let units: [Int64] = [1_000, 1_000_000, 1_000_000_000]
    /// Where the flags byte is: erasing rewrites it, and the CRC.
    static let flagsOffset = 6
    static let noTime = Int32.min
    /// The entry's place in one word: its offset / 8 in 37 bits (a history of up to 1 TiB over its
    /// life), its size / 8 in 19 (4 MiB: `FoldPolicy` folds far less), the segment's high byte.
    static let offsetMask: UInt64 = (1 << 37) - 1
    static let sizeMask: UInt64 = (1 << 19) - 1

    /// The record's bytes, checksummed with the history's seed: 72 bytes for a scheduled job's
    /// run, whose record is most of what the index costs a run (docs/ring-format.md). Times other
    /// than the start are kept in microseconds from it (milliseconds or seconds when that does
    /// not fit), rounded outward: a read's choice of runs may take one more, never one fewer. Runs are named after Kubernetes objects (at most 253
    /// bytes); a longer name is cut at a character, and its run is found by the cut name (the
    /// entry's metadata has it whole).
    static func encode(_ run: FoldedRun, entryOffset: UInt64, checksum: Checksum) -> [UInt8] {
        let prefix = run.job.name + "-"
        let short = run.run.hasPrefix(prefix) && run.run.count > prefix.count
        var name: [UInt8] = []
        for scalar in (short ? String(run.run.dropFirst(prefix.count)) : run.run).unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            guard name.count + bytes.count <= maxRunName else { break }
            name += bytes
        }
        let size = Int(alignedUp(UInt64(fixedSize + name.count), to: RingFormat.frameAlignment))
        var flags: UInt8 = 0
        if run.exitCode != nil { flags |= exitCodeFlag }
        if run.oomKilled { flags |= oomKilledFlag }
        if short { flags |= jobPrefixFlag }
        if run.startedAt == nil { flags |= noStartFlag }
        let base = run.startedAt ?? run.endedAt
        /// `time - base` in `unit`, rounded down or up; nil when it does not fit.
        func delta(_ time: Int64, in unit: Int64, up: Bool) -> Int32? {
            let (difference, overflow) = time.subtractingReportingOverflow(base)
            guard !overflow else { return nil }
            let (quotient, remainder) = difference.quotientAndRemainder(dividingBy: unit)
            let rounded = quotient + (up && remainder > 0 ? 1 : 0) - (!up && remainder < 0 ? 1 : 0)
            guard rounded > Int64(noTime), rounded <= Int64(Int32.max) else { return nil }
            return Int32(rounded)
        }
        let times = [(run.endedAt, true), run.firstTimestamp.map { ($0, false) }, run.lastTimestamp.map { ($0, true) }].compactMap { $0 }
        let unitIndex = units.indices.first { index in times.allSatisfy { delta($0.0, in: units[index], up: $0.1) != nil } } ?? units.count - 1
        let unit = units[unitIndex]
        flags |= UInt8(unitIndex) << unitShift
        // A time that fits no unit (centuries from the start) is kept as none: the widest.
        func delta(_ time: Int64?, up: Bool) -> Int32 { time.flatMap { delta($0, in: unit, up: up) } ?? noTime }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.appendLE(UInt32(0))
        bytes.append(UInt8(size / 8))
        bytes.append(UInt8(name.count))
        bytes.append(flags)
        let segment = UInt16(clamping: run.segment)
        bytes.append(UInt8(segment & 0xff))
        bytes.appendLE(entryOffset / 8 & offsetMask | UInt64(run.diskBytes / 8) << 37 | UInt64(segment >> 8) << 56)
        bytes.append(contentsOf: run.id.bytes)
        bytes.appendLE(run.exitCode ?? 0)
        bytes.appendLE(UInt32(clamping: run.keptRecords))
        bytes.appendLE(UInt32(clamping: run.keptBytes))
        bytes.appendLE(base)
        bytes.appendLE(delta(run.endedAt, up: true))
        bytes.appendLE(delta(run.firstTimestamp, up: false))
        bytes.appendLE(delta(run.lastTimestamp, up: true))
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: repeatElement(0, count: size - bytes.count))
        bytes.storeLE(checksum.of(Array(bytes[4...])), at: 0)
        return bytes
    }

    /// The record at the start of `bytes` (which lies at `at` in the file), or nil when it is
    /// not whole in `bytes` or fails its checksum.
    static func decode(_ bytes: UnsafeRawBufferPointer, at: UInt64, job: JobKey, checksum: Checksum) -> RunRecord? {
        guard bytes.count >= fixedSize else { return nil }
        let size = Int(bytes[4]) * 8
        let nameLength = Int(bytes[5])
        guard size >= fixedSize + nameLength, size <= bytes.count,
              checksum.of(UnsafeRawBufferPointer(rebasing: bytes[4..<size])) == bytes.loadLE(UInt32.self, at: 0)
        else { return nil }
        let flags = bytes[6]
        let base = bytes.loadLE(Int64.self, at: 44)
        let unit = units[Swift.min(Int(flags >> unitShift & 3), units.count - 1)]
        func time(_ offset: Int) -> Int64? {
            let delta = bytes.loadLE(Int32.self, at: offset)
            let (scaled, overflow) = Int64(delta).multipliedReportingOverflow(by: unit)
            let (sum, overflowSum) = base.addingReportingOverflow(scaled)
            return delta == noTime || overflow || overflowSum ? nil : sum
        }
        let location = bytes.loadLE(UInt64.self, at: 8)
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[fixedSize..<(fixedSize + nameLength)]), as: UTF8.self)
        let run = FoldedRun(
            id: RingID(bytes: Array(bytes[16..<32])), job: job, run: flags & jobPrefixFlag != 0 ? job.name + "-" + name : name,
            segment: Int(bytes[7]) | Int(location >> 56) << 8, startedAt: flags & noStartFlag != 0 ? nil : base, endedAt: time(52) ?? base,
            exitCode: flags & exitCodeFlag != 0 ? bytes.loadLE(Int32.self, at: 32) : nil, oomKilled: flags & oomKilledFlag != 0,
            firstTimestamp: time(56), lastTimestamp: time(60), keptRecords: UInt64(bytes.loadLE(UInt32.self, at: 36)),
            keptBytes: UInt64(bytes.loadLE(UInt32.self, at: 40)), diskBytes: (location >> 37 & sizeMask) * 8)
        return RunRecord(run: run, entryOffset: (location & offsetMask) * 8, erased: flags & erasedFlag != 0, at: at, size: size)
    }
}

/// The index file's header: what it is, and whose history it indexes.
enum RunIndexHeader {
    static let magic = Array("TFLRUNS\u{0}".utf8)
    static let version: UInt16 = 1
    static let size = 64
    static let fileSuffix = ".runs"

    static func encode(history: RingID) -> [UInt8] {
        var bytes = magic
        bytes.appendLE(version)
        bytes.appendLE(UInt16(0))
        bytes.appendLE(UInt32(0))
        bytes.append(contentsOf: history.bytes)
        bytes.append(contentsOf: repeatElement(0, count: size - 4 - bytes.count))
        bytes.appendLE(Checksum(seed: 0).of(bytes))
        return bytes
    }

    /// Whether `bytes` is the header of an index of `history` that this release reads.
    static func isValid(_ bytes: [UInt8], history: RingID) -> Bool {
        bytes.count == size && Array(bytes[0..<8]) == magic && bytes.loadLE(UInt16.self, at: 8) == version
            && Array(bytes[16..<32]) == history.bytes && Checksum(seed: 0).of(Array(bytes[0..<(size - 4)])) == bytes.loadLE(UInt32.self, at: size - 4)
    }
}
