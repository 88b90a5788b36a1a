import LogModel

/// What the tool-wide read (`GET /v1/tool/{tool}/logs`) covers: its sources, narrowed by job,
/// build and deployment. The platform's sources are `run-logs` (the jobs' output), `jobs` (job
/// events, written to the custom source `jobs-api`) and `deployments` (deployment events); the
/// platform's logs CLI formats only those three, so the others (`webservice`, `builds`,
/// `activity`, any other custom source) come only when named.
struct ToolLogScope: Sendable {
    static let platformSources: Set<String> = ["run-logs", "jobs", "deployments"]
    /// The custom sources whose lines are read back as the platform's events.
    static let eventSources = ["jobs-api": "jobs", "deployments": "deployments"]

    var sources: Set<String>
    var jobNames: Set<String>
    var buildIDs: Set<String>
    var deploymentIDs: Set<String>
    /// The filters as given, for the next page.
    var query: [(String, String)]

    init(sources: String?, jobNames: String?, buildIDs: String?, deploymentIDs: String?) throws {
        func list(_ text: String?, _ name: String, labels: Bool = true) throws -> Set<String> {
            let values = Set((text ?? "").split(separator: ",").map(String.init))
            if labels, let bad = values.first(where: { !NameRules.isLabel($0) }) {
                throw GatewayError(.badRequest, "\(name): not a name: \(bad)")
            }
            return values
        }
        self.jobNames = try list(jobNames, "job_names")
        self.buildIDs = try list(buildIDs, "build_ids")
        self.deploymentIDs = try list(deploymentIDs, "deployment_ids", labels: false)
        let named = try list(sources, "sources")
        self.sources = named.isEmpty ? Self.platformSources.union(self.buildIDs.isEmpty ? [] : ["builds"]) : named
        let given: [(String, Set<String>)] = [("sources", named), ("job_names", self.jobNames), ("build_ids", self.buildIDs),
                                              ("deployment_ids", self.deploymentIDs)]
        query = given.filter { !$0.1.isEmpty }.map { ($0.0, $0.1.sorted().joined(separator: ",")) }
    }

    /// The source a ring's entries are read as, if this scope covers it.
    func source(of ring: AgentRing) -> String? {
        let source: String
        switch ring.kind {
        case "continuous", "scheduled", "oneoff":
            guard jobNames.isEmpty || jobNames.contains(ring.name) else { return nil }
            source = "run-logs"
        case "webservice": source = "webservice"
        case "build":
            guard buildIDs.isEmpty || buildIDs.contains(ring.name) else { return nil }
            source = "builds"
        case "activity": source = "activity"
        default: source = Self.eventSources[ring.name] ?? ring.name
        }
        return sources.contains(source) ? source : nil
    }

    /// Whether an entry of an event source passes the job and deployment filters.
    func keeps(_ item: LogItem, source: String) -> Bool {
        func field(_ name: String) -> String? { if case let .string(text)? = item.fields?[name] { text } else { nil } }
        switch source {
        case "jobs": return jobNames.isEmpty || field("job_name").map(jobNames.contains) == true
        case "deployments": return deploymentIDs.isEmpty || field("deployment_id").map(deploymentIDs.contains) == true
        default: return true
        }
    }

    /// Marks an entry with its source (and, for run-logs, its job), as the platform's clients
    /// read them.
    func label(_ item: inout LogItem, ring: AgentRing) {
        guard let source = source(of: ring) else { return }
        var fields = item.fields ?? [:]
        fields["source"] = .string(source)
        if source == "run-logs" { fields["job_name"] = .string(ring.name) }
        item.fields = fields
    }
}
