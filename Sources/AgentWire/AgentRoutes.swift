/// The paths of the agent's internal API, for the agent's router and the gateway's client alike.
/// Versioned by its prefix: a change that old gateways cannot read gets a new one (v2: positions
/// as sequence numbers, item lines led by `seq`, `next` and `time`; docs/agent-api.md).
public enum AgentRoutes {
    public static let prefix = "internal/v2"
    /// A ring read's answer says where the ring ended when the read began: a reader that got
    /// nothing goes on from there, exactly (an index's end may be seconds old).
    public static let ringEndHeader = "X-Ring-End"

    /// The router's patterns, under `prefix`.
    public enum Pattern {
        public static let rings = "rings"
        public static let ring = "rings/:id"
        public static let ringLogs = "rings/:id/logs"
        public static let stats = "stats"
        public static let tool = "tools/:tool"
        public static let customSource = "tools/:tool/custom/:name"
        public static let foldedRings = "tools/:tool/folded/rings"
        public static let foldedRuns = "tools/:tool/folded/runs"
    }

    public static let rings = "/\(prefix)/rings"
    public static let stats = "/\(prefix)/stats"
    public static func ring(_ id: String) -> String { "/\(prefix)/rings/\(id)" }
    public static func ringLogs(_ id: String) -> String { "/\(prefix)/rings/\(id)/logs" }
    public static func tool(_ tool: String) -> String { "/\(prefix)/tools/\(tool)" }
    public static func customSource(tool: String, name: String) -> String { "/\(prefix)/tools/\(tool)/custom/\(name)" }
    public static func foldedRings(tool: String) -> String { "/\(prefix)/tools/\(tool)/folded/rings" }
    public static func foldedRuns(tool: String) -> String { "/\(prefix)/tools/\(tool)/folded/runs" }
}
