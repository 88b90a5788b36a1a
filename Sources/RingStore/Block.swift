/// The 24-byte header at the start of a block frame's payload: enough to step over the block,
/// roll it over and bisect by sequence or time without decompressing it.
struct BlockHeader: Equatable {
    var records: UInt32
    /// Bytes the body decodes to; capped by the file's staging capacity before anything is decoded.
    var decodedSize: UInt32
    var lastTimestamp: Int64
    /// Log payload bytes in the block: what its records count as when they roll over.
    var logBytes: UInt64

    static let size = 24

    func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(BlockHeader.size)
        bytes.appendLE(records)
        bytes.appendLE(decodedSize)
        bytes.appendLE(lastTimestamp)
        bytes.appendLE(logBytes)
        return bytes
    }

    init(records: UInt32, decodedSize: UInt32, lastTimestamp: Int64, logBytes: UInt64) {
        self.records = records
        self.decodedSize = decodedSize
        self.lastTimestamp = lastTimestamp
        self.logBytes = logBytes
    }

    init?(_ payload: UnsafeRawBufferPointer) {
        guard payload.count >= BlockHeader.size else { return nil }
        records = payload.loadLE(UInt32.self, at: 0)
        decodedSize = payload.loadLE(UInt32.self, at: 4)
        lastTimestamp = payload.loadLE(Int64.self, at: 8)
        logBytes = payload.loadLE(UInt64.self, at: 16)
        guard records > 0 else { return nil }
    }
}

/// A record as a reader gets it, from a record frame or a decoded block. The payload is valid
/// only while the call that hands it out runs.
struct RecordView {
    /// What a block's entry says of a record lost to damage before its block was sealed.
    enum Kind: UInt8 {
        case damaged = 0
        case log = 1
        case drop = 2
    }

    var seq: UInt64
    var timestamp: Int64
    var kind: Kind
    var stream: UInt8
    var flags: UInt16
    var payload: UnsafeRawBufferPointer
}

/// Builds a block's body from the open block's records: one column for each field of their
/// entries (kinds, flags, time deltas, payload lengths), then every payload in order. Columns of
/// like values compress to almost nothing, and the text compresses as text.
struct BlockBuilder {
    let firstSeq: UInt64
    let firstTimestamp: Int64
    private(set) var records: UInt32 = 0
    private(set) var lastTimestamp: Int64
    private(set) var logBytes: UInt64 = 0
    private var kinds: [UInt8] = []
    private var flags: [UInt8] = []
    private var deltas: [UInt8] = []
    private var lengths: [UInt8] = []
    private var payloads: [UInt8] = []

    init(firstSeq: UInt64, firstTimestamp: Int64, capacity: Int) {
        self.firstSeq = firstSeq
        self.firstTimestamp = firstTimestamp
        lastTimestamp = firstTimestamp
        payloads.reserveCapacity(capacity)
    }

    mutating func add(kind: RecordView.Kind, timestamp: Int64, stream: UInt8, flags recordFlags: UInt16, payload: UnsafeRawBufferPointer) {
        // The writer keeps times from going backwards; a damaged stand-in takes its neighbour's.
        let timestamp = Swift.max(timestamp, lastTimestamp)
        kinds.append(kind.rawValue << 4 | stream & 0x0f)
        flags.appendVarint(UInt64(recordFlags))
        deltas.appendVarint(UInt64(bitPattern: timestamp &- lastTimestamp))
        lengths.appendVarint(UInt64(payload.count))
        payloads.append(contentsOf: payload)
        if kind == .log { logBytes += UInt64(payload.count) }
        lastTimestamp = timestamp
        records += 1
    }

    var body: [UInt8] { kinds + flags + deltas + lengths + payloads }
}

/// A block's records, decoded and checked: the columns against the header and the body.
struct DecodedBlock {
    struct Entry {
        var timestamp: Int64
        var kind: RecordView.Kind
        var stream: UInt8
        var flags: UInt16
        var payloadStart: Int
        var payloadCount: Int
    }

    let firstSeq: UInt64
    let entries: [Entry]
    let body: [UInt8]

    /// Nil when the body does not hold exactly the records the header says, in time order.
    init?(body: [UInt8], header: BlockHeader, firstSeq: UInt64, firstTimestamp: Int64) {
        let count = Int(header.records)
        guard body.count == Int(header.decodedSize), body.count >= count else { return nil }
        var entries = [Entry]()
        entries.reserveCapacity(count)
        for kindByte in body[0..<count] {
            guard let kind = RecordView.Kind(rawValue: kindByte >> 4), kindByte & 0x0f <= 3 else { return nil }
            entries.append(Entry(timestamp: 0, kind: kind, stream: kindByte & 0x0f, flags: 0, payloadStart: 0, payloadCount: 0))
        }
        var reader = VarintReader(bytes: body, offset: count)
        for index in 0..<count {
            guard let flags = reader.varint(), flags <= UInt64(UInt16.max) else { return nil }
            entries[index].flags = UInt16(flags)
        }
        var timestamp = firstTimestamp
        for index in 0..<count {
            guard let delta = reader.varint(), delta <= UInt64(Int64.max) else { return nil }
            let (next, overflow) = timestamp.addingReportingOverflow(Int64(delta))
            guard !overflow else { return nil }
            timestamp = next
            entries[index].timestamp = timestamp
        }
        var payloadBytes = 0
        for index in 0..<count {
            guard let length = reader.varint(), length <= UInt64(body.count) else { return nil }
            entries[index].payloadStart = payloadBytes
            entries[index].payloadCount = Int(length)
            payloadBytes += Int(length)
            guard payloadBytes <= body.count else { return nil }
        }
        guard reader.offset + payloadBytes == body.count, timestamp == header.lastTimestamp else { return nil }
        for index in entries.indices { entries[index].payloadStart += reader.offset }
        self.firstSeq = firstSeq
        self.entries = entries
        self.body = body
    }

    /// A block frame's payload (its checksum already checked) decoded: nil unless its header,
    /// codec and body agree, and it decodes to at most `decodedLimit` bytes.
    init?(payload: UnsafeRawBufferPointer, codec: UInt8, firstSeq: UInt64, firstTimestamp: Int64, decodedLimit: Int) {
        guard let header = BlockHeader(payload), Int(header.decodedSize) <= decodedLimit,
              let codec = BlockCodec.Codec(rawValue: codec)
        else { return nil }
        let stored = UnsafeRawBufferPointer(rebasing: payload[BlockHeader.size...])
        let body: [UInt8]?
        switch codec {
        case .stored: body = stored.count == Int(header.decodedSize) ? Array(stored) : nil
        case .zstd: body = BlockCodec.decompress(stored, size: Int(header.decodedSize))
        }
        guard let body else { return nil }
        self.init(body: body, header: header, firstSeq: firstSeq, firstTimestamp: firstTimestamp)
    }

    /// Hands the record at `index` to `use`, its payload pointing into the decoded bytes.
    func withRecord<Result>(_ index: Int, _ use: (RecordView) -> Result) -> Result {
        let entry = entries[index]
        return body.withUnsafeBytes { bytes in
            use(RecordView(seq: firstSeq + UInt64(index), timestamp: entry.timestamp, kind: entry.kind, stream: entry.stream,
                           flags: entry.flags,
                           payload: UnsafeRawBufferPointer(rebasing: bytes[entry.payloadStart..<(entry.payloadStart + entry.payloadCount)])))
        }
    }
}

extension Array where Element == UInt8 {
    /// LEB128: seven bits a byte, low bits first.
    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        append(UInt8(value))
    }
}

/// Reads a block's table; every read fails (nil) rather than run past the end.
struct VarintReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard let byte = byte() else { return nil }
            if shift == 63, byte > 1 { return nil }
            value |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        return nil
    }
}

/// The fuzz target's way in: a block frame's payload decoded as a reader decodes one once its
/// checksum passed (mutated bytes inside a file never get past the checksum). Returns the
/// payload bytes of its records, nil when it is refused.
@_spi(Fuzzing) public func decodeBlockPayload(_ payload: UnsafeRawBufferPointer, codec: UInt8) -> Int? {
    guard let block = DecodedBlock(payload: payload, codec: codec, firstSeq: 0, firstTimestamp: 0, decodedLimit: 256 * 1024) else {
        return nil
    }
    return block.entries.indices.reduce(0) { total, index in total + block.withRecord(index) { $0.payload.count } }
}
