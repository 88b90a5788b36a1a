/// Where the node agent reads journald from, and how an entry names its tool and container.
public struct JournalConfiguration: Sendable {
    /// A journal directory (`/var/log/journal/<machine-id>`, or a test's); its files are read,
    /// not its subdirectories.
    public var directory: String
    /// The entry field whose value names the tool.
    public var toolField: String
    /// For entries without `toolField`: a regular expression with exactly one capture group,
    /// matched against the `nameField` value, whose capture names the tool
    /// (e.g. `^tool-([a-z0-9-]+)-`).
    public var toolPattern: String?
    /// The field that names the container (the ring's name); entries without it go to `journal`.
    public var nameField: String
    /// The field that names the run (the ring's run); entries without it use the name.
    public var runField: String
    /// A run whose ring has had no entry for this long is finished, so that retention may
    /// evict it (the journal never says that a container stopped). An entry of that run after
    /// it starts a new segment.
    public var idleFinish: Duration

    public init(directory: String, toolField: String = "TOOLFORGE_TOOL", toolPattern: String? = nil,
                nameField: String = "CONTAINER_NAME", runField: String = "CONTAINER_ID", idleFinish: Duration = .seconds(3600)) {
        self.directory = directory
        self.toolField = toolField
        self.toolPattern = toolPattern
        self.nameField = nameField
        self.runField = runField
        self.idleFinish = idleFinish
    }
}

/// Counters of the journal ingest, for the stats and metrics endpoints.
public struct JournalStats: Sendable, Equatable {
    /// Entries appended to rings.
    public var entries: UInt64
    /// Entries that map to no ring: no tool, a tool name that is not an RFC 1123 label, or no `MESSAGE`.
    public var skipped: UInt64
    /// Journal rings this ingest appends to.
    public var rings: Int

    public init(entries: UInt64 = 0, skipped: UInt64 = 0, rings: Int = 0) {
        self.entries = entries
        self.skipped = skipped
        self.rings = rings
    }
}
