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
    /// Rings removed since the version asked (empty in a full listing); asked `folded=by-job`,
    /// rings folded since then as well: they are named by their job from then on.
    public var removed: [String]
    /// Asked `folded=by-job`: the jobs that have folded runs on this node, whose runs `rings`
    /// leaves out; in a full listing, and in a delta when they may have changed, else nil.
    /// Nil from an agent of a release before it, whose `rings` lists folded runs too.
    public var foldedJobs: [FoldedJob]?

    public init(messages: Messages = Messages(), node: String, instance: String, version: UInt64, full: Bool,
                rings: [AgentRing], removed: [String], foldedJobs: [FoldedJob]? = nil) {
        self.messages = messages
        self.node = node
        self.instance = instance
        self.version = version
        self.full = full
        self.rings = rings
        self.removed = removed
        self.foldedJobs = foldedJobs
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
        rings = try container.decode([AgentRing.Readable].self, forKey: .rings).compactMap(\.ring)
        removed = try container.decode([String].self, forKey: .removed)
        foldedJobs = try container.decodeIfPresent([FoldedJob.Readable].self, forKey: .foldedJobs).map { $0.compactMap(\.job) }
    }

    private enum CodingKeys: String, CodingKey {
        case messages, node, instance, version, full, rings, removed
        case foldedJobs = "folded_jobs"
    }

}

/// A job with runs folded into a history file on a node.
public struct FoldedJob: Codable, Sendable, Hashable {
    public var tool: String
    public var kind: AgentRing.Kind
    public var name: String

    public init(tool: String, kind: AgentRing.Kind, name: String) {
        self.tool = tool
        self.kind = kind
        self.name = name
    }

    /// A job of a kind this reader does not know is nil, as `AgentInventory` reads rings.
    struct Readable: Decodable {
        var job: FoldedJob?

        init(from decoder: any Decoder) throws {
            let known = try decoder.container(keyedBy: Names.self)
            guard AgentRing.Kind(rawValue: try known.decode(String.self, forKey: .kind)) != nil else { return }
            job = try FoldedJob(from: decoder)
        }

        private enum Names: String, CodingKey { case kind }
    }
}

/// `GET /internal/v2/tools/{tool}/folded/rings` and `…/runs`: folded rings, and for a page of
/// runs how many runs match in all on this node and the oldest one's start.
public struct FoldedAnswer: Codable, Sendable, Equatable {
    public var messages: Messages
    public var rings: [AgentRing]
    public var runs: Int?
    public var oldest: String?

    public init(messages: Messages = Messages(), rings: [AgentRing], runs: Int? = nil, oldest: String? = nil) {
        self.messages = messages
        self.rings = rings
        self.runs = runs
        self.oldest = oldest
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decode(Messages.self, forKey: .messages)
        rings = try container.decode([AgentRing.Readable].self, forKey: .rings).compactMap(\.ring)
        runs = try container.decodeIfPresent(Int.self, forKey: .runs)
        oldest = try container.decodeIfPresent(String.self, forKey: .oldest)
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
    /// Reads that may scan, running and waiting for a place now, by tool (only tools with either), and
    /// reads refused with 429 since the agent started (nil from an older agent).
    public var reads: [ToolReads]?
    public var readsRefused: UInt64?

    /// One tool's reads that may scan, on this node now.
    public struct ToolReads: Codable, Sendable, Equatable {
        public var tool: String
        public var running: Int
        public var waiting: Int

        public init(tool: String, running: Int, waiting: Int) {
            self.tool = tool
            self.running = running
            self.waiting = waiting
        }
    }

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
        case messages, node, instance, usage, containers, watches, evicted, reads
        case ingestedBytes = "ingested_bytes", openFiles = "open_files", diskFull = "disk_full", readsRefused = "reads_refused"
    }

    public init(node: String, instance: String, usage: Usage, ingestedBytes: UInt64, containers: Int, watches: Int,
                openFiles: Int, diskFull: Bool, evicted: [Evicted]?, reads: [ToolReads]? = nil, readsRefused: UInt64? = nil) {
        self.evicted = evicted
        self.reads = reads
        self.readsRefused = readsRefused
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
