import HTTPEnvelope
import AgentWire
import LogModel

/// What the tool-wide read (`GET /v1/tool/{tool}/logs`) covers: its sources, and, when any of
/// `job_names`, `build_ids` and `deployment_ids` is given, only what belongs to the jobs,
/// builds and deployments they name (the job events of those jobs, the events of those
/// deployments). The platform's sources are `run-logs` (the jobs' output), `jobs` (job
/// events, written to the custom source `jobs-api`) and `deployments` (deployment events); the
/// platform's logs CLI formats only those three, so the others (`webservice`, `builds`,
/// `activity`, any other custom source) come only when named.
struct ToolLogScope: Sendable {
    static let platformSources: Set<String> = ["run-logs", "jobs", "deployments"]
    /// The custom sources whose lines are read back as the platform's events.
    static let eventSources = ["jobs-api": "jobs", "deployments": "deployments"]
    /// The sources of the tool's log that are not custom sources of the same name.
    static let sourceNames: Set<String> = ["run-logs", "jobs", "deployments", "webservice", "builds", "activity"]
    /// The longest list a parameter may be (`sources`, `job_names`, …), in characters.
    static let maxListLength = 1024

    var sources: Set<String>
    var jobNames: Set<String>
    var buildIDs: Set<String>
    var deploymentIDs: Set<String>
    /// The filters as given, for the next page.
    var query: [(String, String)]

    init(sources: String?, jobNames: String?, buildIDs: String?, deploymentIDs: String?) throws {
        func list(_ text: String?, _ name: String, labels: Bool = true) throws -> Set<String> {
            // The spec's bound, which also keeps every request within the 80 KiB an HTTP request
            // line may have (a longer one is refused, bare, by the HTTP layer).
            if let text, text.count > Self.maxListLength {
                throw EnvelopeError(.badRequest, "\(name): at most \(Self.maxListLength) characters, not \(text.count)")
            }
            let values = Set((text ?? "").split(separator: ",").map(String.init))
            if labels, let bad = values.first(where: { !NameRules.isLabel($0) }) {
                throw EnvelopeError(.badRequest, "\(name): not a name: \(bad)")
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

    /// Whether any of the job, build and deployment filters was given: then they select, and
    /// an entry comes only when it belongs to a named job, build or deployment.
    var filtered: Bool { !jobNames.isEmpty || !buildIDs.isEmpty || !deploymentIDs.isEmpty }

    /// The source a ring's entries are read as, if this scope covers it.
    func source(of ring: AgentRing) -> String? { source(kind: ring.kind, name: ring.name) }

    /// The source the entries of a ring of this kind and name are read as, if this scope covers it.
    func source(kind: AgentRing.Kind, name: String) -> String? {
        let source: String
        let selected: Bool
        switch kind {
        case .continuous, .scheduled, .oneoff: (source, selected) = ("run-logs", jobNames.contains(name))
        case .build: (source, selected) = ("builds", buildIDs.contains(name))
        case .webservice: (source, selected) = ("webservice", false)
        case .activity: (source, selected) = ("activity", false)
        case .custom:
            source = Self.eventSources[name] ?? name
            // Events are selected one by one (`keeps`).
            selected = source == "jobs" ? !jobNames.isEmpty : source == "deployments" && !deploymentIDs.isEmpty
        }
        guard sources.contains(source), !filtered || selected else { return nil }
        return source
    }

    /// Whether an entry of an event source belongs to a named job or deployment: the only
    /// entries the gateway decodes.
    func keeps(_ item: AgentItem, source: String) -> Bool {
        guard filtered, source == "jobs" || source == "deployments" else { return true }
        let fields = (try? item.decoded())?.fields
        func field(_ name: String) -> String? { if case let .string(text)? = fields?[name] { text } else { nil } }
        switch source {
        case "jobs": return field("job_name").map(jobNames.contains) == true
        case "deployments": return field("deployment_id").map(deploymentIDs.contains) == true
        default: return true
        }
    }

    /// Marks an entry with its source (and, for run-logs, its job), as the platform's clients
    /// read them.
    func label(_ entry: inout ReadEntry, ring: AgentRing) {
        guard let source = source(of: ring) else { return }
        entry.labels.append(("source", source))
        if source == "run-logs" { entry.labels.append(("job_name", ring.name)) }
    }
}
