import Foundation

/// The query of the agent's folded runs (`AgentRoutes.foldedRings` and `.foldedRuns`): which
/// of a tool's runs that were folded into history files a gateway needs for one request. The
/// inventory names only the jobs that have such runs on a node; a request asks that node for
/// the few it needs, so that no gateway holds every finished run of the fleet.
public struct FoldedQuery: Sendable, Equatable {
    /// Of these kinds (a job's three, the webservice, builds); empty for any.
    public var kinds: [AgentRing.Kind] = []
    public var name: String?
    public var run: String?
    /// Only these rings (a cursor's).
    public var ids: [String] = []
    /// `foldedRings`: only the rings a read with this window and count can need.
    public var choice = RingChoice()
    /// `foldedRuns`: a page of runs, newest first, older than `before`.
    public var before: JobRun.Key?
    public var limit: Int?
    public var state: JobRun.State?

    /// The most runs a page of the public API lists; a gateway asks a node for one more, which
    /// says whether another page follows.
    public static let maxLimit = 1000

    public init(kinds: [AgentRing.Kind] = [], name: String? = nil, run: String? = nil, ids: [String] = [], choice: RingChoice = RingChoice(),
                before: JobRun.Key? = nil, limit: Int? = nil, state: JobRun.State? = nil) {
        self.kinds = kinds
        self.name = name
        self.run = run
        self.ids = ids
        self.choice = choice
        self.before = before
        self.limit = limit
        self.state = state
    }

    public func matches(_ ring: AgentRing) -> Bool {
        (kinds.isEmpty || kinds.contains(ring.kind)) && (name == nil || ring.name == name) && (run == nil || ring.run == run)
            && (ids.isEmpty || ids.contains(ring.id))
    }

    /// The query string, without `?`.
    public var encoded: String {
        var parts: [String] = []
        func add(_ name: String, _ value: (some CustomStringConvertible)?) {
            if let value { parts.append("\(name)=\(value)") }
        }
        func escaped(_ text: String?) -> String? { text.map { $0.addingPercentEncoding(withAllowedCharacters: RingReadQuery.unreserved) ?? $0 } }
        if !kinds.isEmpty { add("kinds", kinds.map(\.rawValue).joined(separator: ",")) }
        add("name", escaped(name))
        add("run", escaped(run))
        if !ids.isEmpty { add("ids", ids.joined(separator: ",")) }
        add("since", choice.since)
        add("until", choice.until)
        add("lines", choice.lines)
        if choice.newestFirst { parts.append("newest_first=true") }
        add("before_started", escaped(before?.started))
        add("before_run", escaped(before?.run))
        add("limit", limit)
        add("state", state?.rawValue)
        return parts.joined(separator: "&")
    }

    /// Parses the query's (already percent-decoded) parameters.
    public init(parsing parameters: some Sequence<(String, String)>) throws(InvalidQuery) {
        var beforeStarted: String?
        var beforeRun: String?
        for parameter in try QueryValue.each(parameters) {
            let value = parameter.value
            switch parameter.name {
            case "kinds":
                for text in value.split(separator: ",") {
                    guard let kind = AgentRing.Kind(rawValue: String(text)) else {
                        throw InvalidQuery(description: "kinds: \(text) is not one of \(AgentRing.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    kinds.append(kind)
                }
            case "name": name = value
            case "run": run = value
            case "ids": ids = value.split(separator: ",").map(String.init)
            case "since": choice.since = try parameter.number(Int64.min...Int64.max, "nanoseconds since the epoch")
            case "until": choice.until = try parameter.number(Int64.min...Int64.max, "nanoseconds since the epoch")
            case "lines": choice.lines = try parameter.number(0...Int.max, "a whole number")
            case "newest_first": choice.newestFirst = try parameter.flag()
            case "before_started": beforeStarted = value
            case "before_run": beforeRun = value
            case "limit": limit = try parameter.number(1...Self.maxLimit + 1, "a whole number from 1 to \(Self.maxLimit + 1)")
            case "state":
                guard let state = JobRun.State(rawValue: value) else {
                    throw InvalidQuery(description: "state: must be one of \(JobRun.State.allCases.map(\.rawValue).joined(separator: ", ")), not \(value)")
                }
                self.state = state
            default: throw InvalidQuery(description: "\(parameter.name): not a parameter of a folded runs query")
            }
        }
        switch (beforeStarted, beforeRun) {
        case let (started?, run?): before = JobRun.Key(started: started, run: run)
        case (nil, nil): break
        default: throw InvalidQuery(description: "before_started and before_run: give both or neither")
        }
    }
}
