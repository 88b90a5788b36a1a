/// The fixed numbers of the ring file format; `docs/ring-format.md` explains them.
enum RingFormat {
    static let magic: [UInt8] = Array("TFLRING\u{0}".utf8)
    /// A reader refuses files of a newer major version: their layout may differ in any way.
    static let newestVersion = RingFileVersion.newest
    /// Minor versions only add things that older readers may ignore (reserved bytes, flag bits).
    static let minorVersion: UInt16 = 0

    static let superblockSize = 128
    static let checkpointSlots: (UInt64, UInt64) = (4096, 4608)
    static let checkpointSlotSize = 512
    static let metadataSlots: (UInt64, UInt64) = (8192, 16384)
    static let metadataSlotSize = 8192
    static let dataOffset: UInt64 = 24576

    static let frameHeaderSize = 32
    static let frameAlignment: UInt64 = 8
    static let maxSourcePosition = 256
    static let minimumSuffix: UInt64 = 4096

    /// Version 2: an open block is sealed before its records' payloads would exceed this.
    static let defaultBlockSize: UInt32 = 64 * 1024
    static let minimumBlockSize: UInt32 = 128
    /// Block frame header and block header, and padding: what a block adds to its body.
    static let blockOverhead: UInt64 = 56

    /// The block size a ring of this suffix gets when its creator does not choose: the
    /// default, or smaller, so that the suffix holds four of the largest blocks (16 of B).
    static func blockSize(forSuffix suffix: UInt64) -> UInt32 {
        let fitting = suffix > 4 * blockOverhead ? (suffix - 4 * blockOverhead) / 16 / frameAlignment * frameAlignment : 0
        return UInt32(Swift.min(UInt64(defaultBlockSize), fitting))
    }
}

/// The major versions of the ring file format this build reads. Version 1 keeps every record as
/// a frame of its own; version 2 seals records into compressed blocks (docs/ring-format.md).
public enum RingFileVersion: UInt16, Sendable, CaseIterable, Comparable {
    case one = 1
    case two = 2

    /// What this build writes unless told otherwise.
    public static let newest = RingFileVersion.two

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a frame holds. Records (`log`, `drop`) take a sequence number; a `wrap` marks where the
/// writer went back to the start of the suffix region and carries the next sequence number.
enum FrameType: UInt8 {
    case log = 1
    case drop = 2
    case wrap = 3
    /// Version 2: a sealed block of consecutive records (docs/ring-format.md, "Blocks").
    case block = 4
}

/// Bytes 0..<128 of a ring file: what it is and how it is laid out, written once at creation.
struct Superblock: Equatable {
    var id: RingID
    var prefixCapacity: UInt64
    var suffixCapacity: UInt64
    var checksumSeed: UInt32
    var createdAt: Int64
    var version = RingFormat.newestVersion
    var minorVersion: UInt16 = RingFormat.minorVersion
    /// Version 2: the open block is sealed before its records' payloads would exceed this (0 in version 1).
    var blockSize: UInt32 = 0
    /// Where the regions start when not where a ring file has them: a folded ring's are inside
    /// its history file's entry (docs/ring-format.md, "History files"). Never stored.
    var regionsAt: UInt64?

    /// Version 2: each staging half's size, the largest record frame, and a block's decoded-size cap.
    var stagingCapacity: UInt64 { 4 * UInt64(blockSize) }
    var stagingStart: UInt64 { RingFormat.dataOffset }
    var prefixStart: UInt64 { regionsAt ?? RingFormat.dataOffset + 2 * stagingCapacity }
    var suffixStart: UInt64 { prefixStart + prefixCapacity }
    var hasBlocks: Bool { version >= .two }

    func encoded() -> [UInt8] {
        var bytes = RingFormat.magic
        bytes.appendLE(version.rawValue)
        bytes.appendLE(minorVersion)
        bytes.appendLE(UInt32(0))
        bytes.append(contentsOf: id.bytes)
        bytes.appendLE(prefixCapacity)
        bytes.appendLE(suffixCapacity)
        bytes.appendLE(checksumSeed)
        bytes.appendLE(UInt32(0))
        bytes.appendLE(createdAt)
        bytes.appendLE(blockSize)
        bytes.appendLE(UInt32(truncatingIfNeeded: stagingCapacity))
        bytes.append(contentsOf: [UInt8](repeating: 0, count: RingFormat.superblockSize - 4 - bytes.count))
        bytes.appendLE(Checksum(seed: 0).of(bytes))
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Superblock {
        guard bytes.count >= RingFormat.superblockSize, Array(bytes[0..<8]) == RingFormat.magic else {
            throw RingStoreError.notARingFile(path: path)
        }
        let stored = bytes.loadLE(UInt32.self, at: RingFormat.superblockSize - 4)
        guard Checksum(seed: 0).of(Array(bytes[0..<(RingFormat.superblockSize - 4)])) == stored else {
            throw RingStoreError.corruptHeader(path: path)
        }
        let major = bytes.loadLE(UInt16.self, at: 8)
        guard let version = RingFileVersion(rawValue: major) else { throw RingStoreError.unsupportedVersion(path: path, major: major) }
        let block = Superblock(
            id: RingID(bytes: Array(bytes[16..<32])),
            prefixCapacity: bytes.loadLE(UInt64.self, at: 32),
            suffixCapacity: bytes.loadLE(UInt64.self, at: 40),
            checksumSeed: bytes.loadLE(UInt32.self, at: 48),
            createdAt: bytes.loadLE(Int64.self, at: 56),
            version: version,
            minorVersion: bytes.loadLE(UInt16.self, at: 10),
            blockSize: version >= .two ? bytes.loadLE(UInt32.self, at: 64) : 0
        )
        guard block.prefixCapacity % RingFormat.frameAlignment == 0,
              block.suffixCapacity % RingFormat.frameAlignment == 0,
              block.suffixCapacity >= RingFormat.minimumSuffix,
              block.prefixCapacity < 1 << 48, block.suffixCapacity < 1 << 48,
              !block.hasBlocks || block.blockSizeFits(stagingField: bytes.loadLE(UInt32.self, at: 68))
        else { throw RingStoreError.corruptHeader(path: path) }
        return block
    }

    /// Whether a version 2 file's block size is one a writer could have chosen for its suffix.
    func blockSizeFits(stagingField: UInt32? = nil) -> Bool {
        blockSize >= RingFormat.minimumBlockSize && UInt64(blockSize) % RingFormat.frameAlignment == 0
            && blockSize <= 1 << 24 && (stagingField.map { UInt64($0) == stagingCapacity } ?? true)
            && suffixCapacity >= 4 * (stagingCapacity + RingFormat.blockOverhead)
    }
}

/// The 32-byte header in front of every frame's payload.
struct FrameHeader: Equatable {
    var checksum: UInt32 = 0
    var length: UInt32
    var seq: UInt64
    var timestamp: Int64
    var type: FrameType
    var stream: UInt8
    var flags: UInt16

    /// Bytes the frame takes in the file: header, payload, padding to 8 bytes.
    var frameSize: UInt64 { alignedUp(UInt64(RingFormat.frameHeaderSize) + UInt64(length), to: RingFormat.frameAlignment) }

    static func frameSize(payload: Int) -> UInt64 {
        alignedUp(UInt64(RingFormat.frameHeaderSize + payload), to: RingFormat.frameAlignment)
    }

    /// Parses a header without checking its checksum; nil when the fields cannot be ours.
    static func parse(_ raw: UnsafeRawBufferPointer) -> FrameHeader? {
        guard raw.count >= RingFormat.frameHeaderSize,
              let type = FrameType(rawValue: raw[24]),
              raw[25] <= 3,
              raw.loadLE(UInt32.self, at: 28) == 0
        else { return nil }
        return FrameHeader(
            checksum: raw.loadLE(UInt32.self, at: 0),
            length: raw.loadLE(UInt32.self, at: 4),
            seq: raw.loadLE(UInt64.self, at: 8),
            timestamp: raw.loadLE(Int64.self, at: 16),
            type: type,
            stream: raw[25],
            flags: raw.loadLE(UInt16.self, at: 26)
        )
    }

    /// Appends header, payload and padding to `out`, with the checksum filled in. This runs for
    /// every record appended, so it copies each byte once and patches the checksum in place.
    func append(payload: UnsafeRawBufferPointer, to out: inout [UInt8], checksum: Checksum) {
        let start = out.count
        let fields: (UInt32, UInt32, UInt64, Int64, UInt8, UInt8, UInt16, UInt32) =
            (0, length.littleEndian, seq.littleEndian, timestamp.littleEndian, type.rawValue, stream, flags.littleEndian, 0)
        withUnsafeBytes(of: fields) { out.append(contentsOf: $0) }
        out.append(contentsOf: payload)
        let padding = Int(frameSize) - RingFormat.frameHeaderSize - payload.count
        if padding > 0 { out.append(contentsOf: repeatElement(0, count: padding)) }
        out.withUnsafeMutableBytes { buffer in
            let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[start...])
            let crc = checksum.of(UnsafeRawBufferPointer(rebasing: frame[4..<(RingFormat.frameHeaderSize + payload.count)]))
            frame.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
        }
    }
}

/// Two alternating copies of a small record, each with a generation and a checksum, so that a
/// torn write of one leaves the other intact (the scheme of database header pages).
struct DoubleSlot {
    let offsets: (UInt64, UInt64)
    let size: Int
    static let headerSize = 16

    var capacity: Int { size - DoubleSlot.headerSize }

    /// The valid copy with the highest generation.
    func read(from file: RawFile, checksum: Checksum) throws -> (generation: UInt64, payload: [UInt8])? {
        var best: (generation: UInt64, payload: [UInt8])?
        for offset in [offsets.0, offsets.1] {
            let bytes = try file.read(count: size, at: offset)
            let length = Int(bytes.loadLE(UInt32.self, at: 4))
            guard length <= capacity else { continue }
            let stored = bytes.loadLE(UInt32.self, at: 0)
            let computed = bytes.withUnsafeBytes { checksum.of(UnsafeRawBufferPointer(rebasing: $0[4..<(DoubleSlot.headerSize + length)])) }
            guard stored == computed else { continue }
            let generation = bytes.loadLE(UInt64.self, at: 8)
            if generation > 0, generation > (best?.generation ?? 0) {
                best = (generation, Array(bytes[DoubleSlot.headerSize..<(DoubleSlot.headerSize + length)]))
            }
        }
        return best
    }

    /// Writes `payload` as `generation` into the slot that generation owns (alternating).
    func write(_ payload: [UInt8], generation: UInt64, to file: RawFile, checksum: Checksum) throws {
        let (offset, bytes) = encoded(payload, generation: generation, checksum: checksum)
        try file.write(bytes, at: offset)
    }

    /// The bytes of `payload` as `generation`, and the file offset of the slot they go to.
    func encoded(_ payload: [UInt8], generation: UInt64, checksum: Checksum) -> (offset: UInt64, bytes: [UInt8]) {
        precondition(payload.count <= capacity)
        var bytes = [UInt8]()
        bytes.reserveCapacity(DoubleSlot.headerSize + payload.count)
        bytes.appendLE(UInt32(0))
        bytes.appendLE(UInt32(payload.count))
        bytes.appendLE(generation)
        bytes.append(contentsOf: payload)
        bytes.storeLE(bytes.withUnsafeBytes { checksum.of(UnsafeRawBufferPointer(rebasing: $0[4...])) }, at: 0)
        return (generation % 2 == 1 ? offsets.0 : offsets.1, bytes)
    }
}
