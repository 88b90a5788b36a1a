import LogModel

/// One ring as the agent's inventory lists it.
public struct AgentRing: Codable, Sendable, Equatable {
    /// What a ring holds (RingStore's kinds, by the same names).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case continuous, scheduled, oneoff, webservice, build, custom, activity

        /// A job's kinds: what `job/{job}/…` reads.
        public var isJob: Bool { self == .continuous || self == .scheduled || self == .oneoff }
    }

    /// A live ring is still written; a finished one never will be again.
    public enum State: String, Codable, Sendable {
        case live, finished
    }

    public var id: String
    public var node: String
    public var tool: String
    public var kind: Kind
    public var name: String
    public var run: String
    public var segment: Int
    public var namespace: String?
    public var pod: String?
    public var container: String?
    public var image: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var exitCode: Int32?
    public var reason: String?
    public var state: State
    public var diskBytes: UInt64
    public var prefixCapacity: UInt64
    public var suffixCapacity: UInt64
    public var recordsWritten: UInt64
    public var bytesWritten: UInt64
    public var rolledRecords: UInt64
    public var rolledBytes: UInt64
    public var droppedRecords: UInt64
    public var droppedBytes: UInt64
    public var truncatedRecords: UInt64
    /// The sequence numbers of the first record kept and of the next to be written (the end).
    public var firstSeq: UInt64
    public var endSeq: UInt64
    public var firstTime: String?
    public var lastTime: String?

    enum CodingKeys: String, CodingKey {
        case id, node, tool, kind, name, run, segment, namespace, pod, container, image, state, reason
        case startedAt = "started_at", finishedAt = "finished_at", exitCode = "exit_code", diskBytes = "disk_bytes"
        case prefixCapacity = "prefix_capacity", suffixCapacity = "suffix_capacity"
        case recordsWritten = "records_written", bytesWritten = "bytes_written", rolledRecords = "rolled_records"
        case rolledBytes = "rolled_bytes", droppedRecords = "dropped_records", droppedBytes = "dropped_bytes"
        case truncatedRecords = "truncated_records", firstSeq = "first_seq", endSeq = "end_seq"
        case firstTime = "first_time", lastTime = "last_time"
    }

    public init(id: String, node: String, tool: String, kind: Kind, name: String, run: String, segment: Int,
                namespace: String?, pod: String?, container: String?, image: String?, startedAt: String?,
                finishedAt: String?, exitCode: Int32?, reason: String?, state: State, diskBytes: UInt64,
                prefixCapacity: UInt64, suffixCapacity: UInt64, recordsWritten: UInt64, bytesWritten: UInt64,
                rolledRecords: UInt64, rolledBytes: UInt64, droppedRecords: UInt64, droppedBytes: UInt64,
                truncatedRecords: UInt64, firstSeq: UInt64, endSeq: UInt64, firstTime: String?, lastTime: String?) {
        self.id = id
        self.node = node
        self.tool = tool
        self.kind = kind
        self.name = name
        self.run = run
        self.segment = segment
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.image = image
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.reason = reason
        self.state = state
        self.diskBytes = diskBytes
        self.prefixCapacity = prefixCapacity
        self.suffixCapacity = suffixCapacity
        self.recordsWritten = recordsWritten
        self.bytesWritten = bytesWritten
        self.rolledRecords = rolledRecords
        self.rolledBytes = rolledBytes
        self.droppedRecords = droppedRecords
        self.droppedBytes = droppedBytes
        self.truncatedRecords = truncatedRecords
        self.firstSeq = firstSeq
        self.endSeq = endSeq
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

extension AgentRing {
    /// A ring whose kind or state this reader does not know (a newer agent's) is nil, and left
    /// out of a listing rather than failing it: the version-skew rule of docs/agent-api.md. Any
    /// other fault fails the listing, as a broken contract should.
    struct Readable: Decodable {
        var ring: AgentRing?

        init(from decoder: any Decoder) throws {
            let known = try decoder.container(keyedBy: Names.self)
            guard Kind(rawValue: try known.decode(String.self, forKey: .kind)) != nil,
                  State(rawValue: try known.decode(String.self, forKey: .state)) != nil else { return }
            ring = try AgentRing(from: decoder)
        }

        private enum Names: String, CodingKey { case kind, state }
    }
}
