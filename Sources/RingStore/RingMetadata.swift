/// What a ring holds, in the words of DESIGN.md.
public enum RingKind: String, Sendable, Codable, CaseIterable {
    case continuous, scheduled, oneoff, webservice, build, custom, activity
}

/// What a ring holds and where it came from: the "table" of what is persisted. It is stored
/// in the ring file itself (two alternating slots), so it survives with the bytes it describes
/// and can be read without scanning records.
public struct RingMetadata: Sendable, Codable, Equatable {
    public var tool: String
    public var kind: RingKind
    /// The job's name; the tool's for a webservice, the build id for a build, the source's
    /// name for a custom source.
    public var name: String
    /// The run: Kubernetes Job, PipelineRun, or pod for continuous jobs and webservices.
    public var run: String
    /// The container's restart count within the run.
    public var segment: Int
    public var namespace: String?
    public var pod: String?
    public var container: String?
    public var node: String?
    public var image: String?
    /// Nanoseconds since the Unix epoch.
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var exitCode: Int32?
    public var reason: String?
    /// Anything else worth keeping about the source (labels, pod uid, …).
    public var extra: [String: String]

    public init(tool: String, kind: RingKind, name: String, run: String, segment: Int = 0,
                namespace: String? = nil, pod: String? = nil, container: String? = nil, node: String? = nil,
                image: String? = nil, startedAt: Int64? = nil, finishedAt: Int64? = nil,
                exitCode: Int32? = nil, reason: String? = nil, extra: [String: String] = [:]) {
        self.tool = tool
        self.kind = kind
        self.name = name
        self.run = run
        self.segment = segment
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.node = node
        self.image = image
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.reason = reason
        self.extra = extra
    }
}

/// A ring as the store lists it: metadata, state and sizes, without reading records.
public struct RingInfo: Sendable, Equatable {
    public var id: RingID
    public var path: String
    public var metadata: RingMetadata
    public var finished: Bool
    public var counters: RingCounters
    public var prefixCapacity: UInt64
    public var suffixCapacity: UInt64
    /// Sequence numbers readable now: the prefix's, then the suffix's and the open block's (a
    /// gap between them).
    public var prefixRecords: Range<UInt64>
    public var suffixRecords: Range<UInt64>
    public var version: RingFileVersion
    /// Version 2: records are sealed into compressed blocks of this size (0 in version 1).
    public var blockSize: UInt32
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// Bytes the file occupies on disk (a folded ring: its history entry's).
    public var diskBytes: UInt64
    public var createdAt: Int64
    /// Folded into its job's history file (docs/ring-format.md, "History files").
    public var folded: Bool

    public var nextSeq: UInt64 { Swift.max(prefixRecords.upperBound, suffixRecords.upperBound) }

    /// Log payload bytes the ring holds now, as they were given: its history before compression.
    public var keptBytes: UInt64 { counters.bytesWritten - Swift.min(counters.rolledBytes, counters.bytesWritten) }

    /// History per byte of disk: what the ring keeps for each byte it takes (below 1 when
    /// framing costs more than compression saves).
    public var compressionRatio: Double { diskBytes == 0 ? 0 : Double(keptBytes) / Double(diskBytes) }
}

/// Where a ring's records come from, with the key that finds the ring again after a restart:
/// a Kubernetes container's run (`namespace/pod/uid/container/restart`) or a journal run
/// (`tool/name/run`). Kept in `extra` under the names every release has written, so that a
/// file stays readable by a release before this type and after it.
public enum RingOrigin: Sendable, Equatable {
    case container(key: String)
    case journal(key: String)
    /// Pushed lines, activity events, or a ring of a release that recorded no origin.
    case other
}

extension RingMetadata {
    private enum Stored {
        static let containerKey = "containerKey"
        static let source = "source"
        static let journal = "journal"
        static let journalKey = "journalKey"
    }

    public var origin: RingOrigin {
        get {
            if extra[Stored.source] == Stored.journal, let key = extra[Stored.journalKey] { return .journal(key: key) }
            if let key = extra[Stored.containerKey] { return .container(key: key) }
            return .other
        }
        set {
            for name in [Stored.containerKey, Stored.source, Stored.journalKey] { extra[name] = nil }
            switch newValue {
            case let .container(key): extra[Stored.containerKey] = key
            case let .journal(key):
                extra[Stored.source] = Stored.journal
                extra[Stored.journalKey] = key
            case .other: break
            }
        }
    }

    /// The container run a ring was made for: how a restarted agent finds its ring for a log
    /// file, and what it retires when the ring goes.
    public var containerKey: String? {
        if case let .container(key) = origin { key } else { nil }
    }

    public var journalKey: String? {
        if case let .journal(key) = origin { key } else { nil }
    }
}
