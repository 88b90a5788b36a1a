/// The agent's internal API, as the agent writes it and the gateway reads it. Versioned by its
/// path (`/internal/v1`); readers ignore fields they do not know.

/// Messages for the reader, in every JSON answer: `{"messages": {"info": [], "warning": [], "error": []}}`.
public struct Messages: Codable, Sendable, Equatable {
    public var info: [String]
    public var warning: [String]
    public var error: [String]

    public init(info: [String] = [], warning: [String] = [], error: [String] = []) {
        self.info = info
        self.warning = warning
        self.error = error
    }
}

/// One ring as the agent's inventory lists it.
public struct AgentRing: Codable, Sendable, Equatable {
    public var id: String
    public var node: String
    public var tool: String
    public var kind: String
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
    /// `live` or `finished`.
    public var state: String
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
    /// Cursors of the first and of the next record (the end).
    public var firstCursor: String
    public var endCursor: String
    public var firstTime: String?
    public var lastTime: String?

    enum CodingKeys: String, CodingKey {
        case id, node, tool, kind, name, run, segment, namespace, pod, container, image, state, reason
        case startedAt = "started_at", finishedAt = "finished_at", exitCode = "exit_code", diskBytes = "disk_bytes"
        case prefixCapacity = "prefix_capacity", suffixCapacity = "suffix_capacity"
        case recordsWritten = "records_written", bytesWritten = "bytes_written", rolledRecords = "rolled_records"
        case rolledBytes = "rolled_bytes", droppedRecords = "dropped_records", droppedBytes = "dropped_bytes"
        case truncatedRecords = "truncated_records", firstCursor = "first_cursor", endCursor = "end_cursor"
        case firstTime = "first_time", lastTime = "last_time"
    }

    public init(id: String, node: String, tool: String, kind: String, name: String, run: String, segment: Int,
                namespace: String?, pod: String?, container: String?, image: String?, startedAt: String?,
                finishedAt: String?, exitCode: Int32?, reason: String?, state: String, diskBytes: UInt64,
                prefixCapacity: UInt64, suffixCapacity: UInt64, recordsWritten: UInt64, bytesWritten: UInt64,
                rolledRecords: UInt64, rolledBytes: UInt64, droppedRecords: UInt64, droppedBytes: UInt64,
                truncatedRecords: UInt64, firstCursor: String, endCursor: String, firstTime: String?, lastTime: String?) {
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
        self.firstCursor = firstCursor
        self.endCursor = endCursor
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

/// `GET /internal/v1/rings`: the rings, whole or as a delta since a version of this instance.
public struct AgentInventory: Codable, Sendable, Equatable {
    public var messages: Messages
    public var node: String
    /// Random per agent start: versions of another instance do not apply.
    public var instance: String
    public var version: UInt64
    /// true: `rings` is everything this agent holds; false: only what changed since the version asked.
    public var full: Bool
    public var rings: [AgentRing]
    /// Rings removed since the version asked (empty in a full listing).
    public var removed: [String]

    public init(messages: Messages = Messages(), node: String, instance: String, version: UInt64, full: Bool,
                rings: [AgentRing], removed: [String]) {
        self.messages = messages
        self.node = node
        self.instance = instance
        self.version = version
        self.full = full
        self.rings = rings
        self.removed = removed
    }
}
