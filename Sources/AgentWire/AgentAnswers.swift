import LogModel

/// `GET /internal/v2/rings`: the rings, whole or as a delta since a version of this instance.
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

    /// A ring this gateway cannot read (a kind or state a newer agent added) is left out, not
    /// the whole listing: the version-skew rule of docs/agent-api.md.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decode(Messages.self, forKey: .messages)
        node = try container.decode(String.self, forKey: .node)
        instance = try container.decode(String.self, forKey: .instance)
        version = try container.decode(UInt64.self, forKey: .version)
        full = try container.decode(Bool.self, forKey: .full)
        rings = try container.decode([Readable].self, forKey: .rings).compactMap(\.ring)
        removed = try container.decode([String].self, forKey: .removed)
    }

    private enum CodingKeys: String, CodingKey {
        case messages, node, instance, version, full, rings, removed
    }

    /// A ring whose kind or state this reader does not know is nil; any other fault fails the
    /// listing, as a broken contract should.
    private struct Readable: Decodable {
        var ring: AgentRing?

        init(from decoder: any Decoder) throws {
            let known = try decoder.container(keyedBy: Names.self)
            guard AgentRing.Kind(rawValue: try known.decode(String.self, forKey: .kind)) != nil,
                  AgentRing.State(rawValue: try known.decode(String.self, forKey: .state)) != nil else { return }
            ring = try AgentRing(from: decoder)
        }

        private enum Names: String, CodingKey { case kind, state }
    }
}

/// `GET /internal/v2/stats`: what the node holds and ingests, for operators.
public struct AgentStats: Codable, Sendable, Equatable {
    /// What the data directory holds, in all and per tool.
    public struct Usage: Codable, Sendable, Equatable {
        public struct Tool: Codable, Sendable, Equatable {
            public var tool: String
            /// On disk, after compression.
            public var bytes: UInt64
            /// Log bytes held, before compression.
            public var keptBytes: UInt64
            public var rings: Int
            public var liveRings: Int
            /// Finished runs kept, and finished rings folded into history files (nil from an
            /// agent of a release before history files).
            public var runs: Int?
            public var foldedRings: Int?
            public var rolledBytes: UInt64
            public var droppedBytes: UInt64

            enum CodingKeys: String, CodingKey {
                case tool, bytes, rings, runs
                case keptBytes = "kept_bytes", liveRings = "live_rings", rolledBytes = "rolled_bytes", droppedBytes = "dropped_bytes"
                case foldedRings = "folded_rings"
            }

            public init(tool: String, bytes: UInt64, keptBytes: UInt64, rings: Int, liveRings: Int, runs: Int?, foldedRings: Int?,
                        rolledBytes: UInt64, droppedBytes: UInt64) {
                self.tool = tool
                self.bytes = bytes
                self.keptBytes = keptBytes
                self.rings = rings
                self.liveRings = liveRings
                self.runs = runs
                self.foldedRings = foldedRings
                self.rolledBytes = rolledBytes
                self.droppedBytes = droppedBytes
            }
        }

        public var budgetBytes: UInt64?
        public var usedBytes: UInt64
        /// Log bytes held before compression; `usedBytes` is after.
        public var keptBytes: UInt64
        public var liveRings: Int
        public var finishedRings: Int
        /// A part of `finishedRings`; nil from an agent of a release before history files.
        public var foldedRings: Int?
        public var rolledBytes: UInt64
        public var droppedBytes: UInt64
        public var tools: [Tool]

        enum CodingKeys: String, CodingKey {
            case tools
            case budgetBytes = "budget_bytes", usedBytes = "used_bytes", keptBytes = "kept_bytes", liveRings = "live_rings"
            case finishedRings = "finished_rings", rolledBytes = "rolled_bytes", droppedBytes = "dropped_bytes"
            case foldedRings = "folded_rings"
        }

        public init(budgetBytes: UInt64?, usedBytes: UInt64, keptBytes: UInt64, liveRings: Int, finishedRings: Int, foldedRings: Int?,
                    rolledBytes: UInt64, droppedBytes: UInt64, tools: [Tool]) {
            self.budgetBytes = budgetBytes
            self.usedBytes = usedBytes
            self.keptBytes = keptBytes
            self.liveRings = liveRings
            self.finishedRings = finishedRings
            self.foldedRings = foldedRings
            self.rolledBytes = rolledBytes
            self.droppedBytes = droppedBytes
            self.tools = tools
        }
    }

    public var messages = Messages()
    public var node: String
    public var instance: String
    public var usage: Usage
    public var ingestedBytes: UInt64
    public var containers: Int
    public var watches: Int
    public var openFiles: Int
    public var diskFull: Bool
    /// What retention evicted since the agent started, by rule (nil from an older agent).
    public var evicted: [Evicted]?

    /// Runs evicted by one retention rule (`max-age`, `keep-runs`, `tool-share`, `budget`), and their bytes on disk.
    public struct Evicted: Codable, Sendable, Equatable {
        public var reason: String
        public var runs: Int
        public var bytes: UInt64

        public init(reason: String, runs: Int, bytes: UInt64) {
            self.reason = reason
            self.runs = runs
            self.bytes = bytes
        }
    }

    enum CodingKeys: String, CodingKey {
        case messages, node, instance, usage, containers, watches, evicted
        case ingestedBytes = "ingested_bytes", openFiles = "open_files", diskFull = "disk_full"
    }

    public init(node: String, instance: String, usage: Usage, ingestedBytes: UInt64, containers: Int, watches: Int,
                openFiles: Int, diskFull: Bool, evicted: [Evicted]?) {
        self.evicted = evicted
        self.node = node
        self.instance = instance
        self.usage = usage
        self.ingestedBytes = ingestedBytes
        self.containers = containers
        self.watches = watches
        self.openFiles = openFiles
        self.diskFull = diskFull
    }
}

/// `POST /internal/v2/tools/{tool}/custom/{name}`: how many of the pushed lines were kept.
public struct PushAnswer: Codable, Sendable, Equatable {
    public var messages: Messages
    public var lines: Int

    public init(messages: Messages = Messages(), lines: Int) {
        self.messages = messages
        self.lines = lines
    }
}

/// `DELETE /internal/v2/rings/{id}` and `DELETE /internal/v2/tools/{tool}`: how many rings went.
public struct PurgeAnswer: Codable, Sendable, Equatable {
    public var messages: Messages
    public var rings: Int

    public init(messages: Messages = Messages(), rings: Int) {
        self.messages = messages
        self.rings = rings
    }
}

/// Any answer's envelope, for its error text.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    public var messages: Messages

    public init(messages: Messages) { self.messages = messages }
}
