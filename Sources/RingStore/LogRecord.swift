/// Where a line came from: the container's stdout or stderr, or `other` for input that could
/// not be parsed (kept, never dropped).
public enum LogStream: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case stdout = 1
    case stderr = 2
    case other = 3

    public var description: String {
        switch self {
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .other: "other"
        }
    }

    public init?(name: String) {
        guard let stream = LogStream.allCases.first(where: { $0.description == name }) else { return nil }
        self = stream
    }
}

public struct RecordFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The source split the line (CRI `P`); the next record continues it.
    public static let partial = RecordFlags(rawValue: 1 << 0)
    /// The payload was cut to the largest size this ring takes.
    public static let truncated = RecordFlags(rawValue: 1 << 1)
    /// The source time went backwards; the record carries its predecessor's time instead, so that
    /// time seeks stay a binary search.
    public static let timeAdjusted = RecordFlags(rawValue: 1 << 2)
}

/// One log line as stored: payload bytes are kept as they came, never assumed to be UTF-8.
public struct LogRecord: Sendable, Equatable {
    public var seq: UInt64
    /// Nanoseconds since the Unix epoch, from the source.
    public var timestamp: Int64
    public var stream: LogStream
    public var flags: RecordFlags
    public var payload: [UInt8]

    public init(seq: UInt64, timestamp: Int64, stream: LogStream, flags: RecordFlags, payload: [UInt8]) {
        self.seq = seq
        self.timestamp = timestamp
        self.stream = stream
        self.flags = flags
        self.payload = payload
    }
}

/// Why records are missing at a place in a ring.
public enum GapReason: Sendable, Hashable, CustomStringConvertible {
    /// Overwritten by the suffix ring (or by the writer while a reader was behind).
    case rolledOver
    /// Not kept by the writer, which said why in an in-band drop record (e.g. "rate-limited").
    case dropped(String)
    /// The bytes on disk failed their checksum and were skipped.
    case corrupt

    public var description: String {
        switch self {
        case .rolledOver: "rolled over"
        case let .dropped(reason): reason
        case .corrupt: "corrupt"
        }
    }
}

/// Records that are not there, at the place they would have been.
public struct Gap: Sendable, Hashable {
    /// The first sequence number this gap stands for.
    public var seq: UInt64
    /// Sequence numbers this gap covers in the ring (an in-band drop record covers one).
    public var seqCount: UInt64
    /// Source lines not kept.
    public var records: UInt64
    /// Payload bytes not kept, when known.
    public var bytes: UInt64?
    public var reason: GapReason
    /// When it happened, when known.
    public var timestamp: Int64?
}

/// What a read yields, in ring order.
public enum ReadItem: Sendable, Hashable {
    case record(LogRecord)
    case gap(Gap)

    /// The position of this item (its first record).
    public var seq: UInt64 {
        switch self {
        case let .record(record): record.seq
        case let .gap(gap): gap.seq
        }
    }

    /// The cursor position right after this item.
    public var nextSeq: UInt64 {
        switch self {
        case let .record(record): record.seq + 1
        case let .gap(gap): gap.seq + gap.seqCount
        }
    }
}

extension LogRecord: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
    }
}

/// What a writer appends.
public enum AppendEntry: Sendable {
    case line(timestamp: Int64, stream: LogStream, flags: RecordFlags, payload: [UInt8])
    /// An in-band note that `records` lines with `bytes` payload bytes were not kept, and why.
    case drop(timestamp: Int64, records: UInt64, bytes: UInt64, reason: String)
}
