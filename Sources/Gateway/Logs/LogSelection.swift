import HTTPEnvelope
import AgentWire
import LogModel

/// Which rings a read covers: a job's, the webservice's, a build's, the activity or a custom
/// source, narrowed by `run` and `container`.
struct LogSelection: Sendable {
    enum Source: Sendable {
        case job(String)
        case webservice
        case build(String)
        case activity
        case custom(String)
        /// The tool's whole log, as the platform's logs CLI reads it.
        case tool(ToolLogScope)
    }

    var tool: String
    var source: Source
    /// `latest`, `all`, or a run id.
    var run: String = "latest"
    var container: String?

    /// Names are RFC 1123 labels (the spec's pattern, which the generated code does not check).
    func validate() throws {
        guard NameRules.isLabel(tool) else { throw EnvelopeError(.badRequest, "toolname: not a tool name: \(tool)") }
        switch source {
        case let .job(name), let .build(name), let .custom(name):
            guard NameRules.isLabel(name) else { throw EnvelopeError(.badRequest, "not a \(kindWord) name: \(name)") }
        case .webservice, .activity, .tool:
            break
        }
    }

    private var kindWord: String {
        switch source {
        case .job: "job"
        case .build: "build"
        case .custom: "source"
        case .webservice, .activity, .tool: "tool"
        }
    }

    var description: String {
        switch source {
        case let .job(name): "job \(name)"
        case .webservice: "webservice"
        case let .build(name): "build \(name)"
        case .activity: "activity"
        case let .custom(name): "source \(name)"
        case .tool: "the tool"
        }
    }

    /// The name a read of a job, build or source asks for, and which rings are of that kind: a
    /// 404 for a name no ring has suggests the nearest that one has.
    var named: (name: String, ofKind: @Sendable (AgentRing.Kind) -> Bool)? {
        switch source {
        case let .job(name): (name, { $0.isJob })
        case let .build(name): (name, { $0 == .build })
        case let .custom(name): (name, { $0 == .custom })
        case .webservice, .activity, .tool: nil
        }
    }

    /// Whether `ring` can be among those `choose` returns: what it belongs to, and, for a given
    /// run or container, that run or container. The index is searched with it, so that a read of
    /// one run of a job that keeps 20,000 collects one run's rings, not the job's.
    func mayChoose(_ ring: AgentRing) -> Bool {
        guard belongs(ring), container == nil || ring.container == container else { return false }
        switch source {
        case .job, .webservice: return run == "latest" || run == "all" || ring.run == run
        case .activity, .custom, .build, .tool: return true
        }
    }

    /// A follow of one given run (or a build) ends with it; other follows wait for new pods and runs.
    var endsWhenFinished: Bool {
        switch source {
        case .build: true
        case .job: run != "latest" && run != "all"
        case .webservice, .activity, .custom, .tool: false
        }
    }

    func belongs(_ ring: AgentRing) -> Bool { belongs(kind: ring.kind, name: ring.name) }

    /// Whether rings of this kind and name (a ring's, or a job's that has folded runs) are of
    /// what is read.
    func belongs(kind: AgentRing.Kind, name: String) -> Bool {
        switch source {
        case let .job(job): kind.isJob && name == job
        case .webservice: kind == .webservice
        case let .build(build): kind == .build && name == build
        case .activity: kind == .activity
        case let .custom(custom): kind == .custom && name == custom
        case let .tool(scope): scope.source(kind: kind, name: name) != nil
        }
    }

    /// What the agents are asked for of the runs they folded (`FoldedQuery`): this selection's
    /// kinds and name, and its run when one is given.
    var folded: FoldedQuery {
        var query = FoldedQuery()
        switch source {
        case let .job(name):
            query.kinds = AgentRing.Kind.allCases.filter(\.isJob)
            query.name = name
        case .webservice: query.kinds = [.webservice]
        case let .build(name):
            query.kinds = [.build]
            query.name = name
        case .activity: query.kinds = [.activity]
        case let .custom(name):
            query.kinds = [.custom]
            query.name = name
        case .tool: break
        }
        if run != "latest", run != "all" { query.run = run }
        return query
    }

    /// The folded rings a read with `choice` can need: its window always; its count only when
    /// the agent picks among exactly the rings this selection reads (a container, or the
    /// tool-wide read's sources, narrow them after).
    func folded(for choice: RingChoice) -> FoldedQuery {
        var query = folded
        query.choice = RingChoice(since: choice.since, until: choice.until)
        switch source {
        case .job, .webservice, .build:
            if container == nil {
                query.choice.lines = choice.lines
                query.choice.newestFirst = choice.newestFirst
            }
        case .activity, .custom, .tool:
            break
        }
        return query
    }

    /// The tool-wide read, whose entries are labelled with their source.
    var isToolWide: Bool {
        if case .tool = source { true } else { false }
    }

    /// Whether entries are filtered one by one (the tool-wide read's job and deployment
    /// filters): then a ring's bytes cannot pass through unread.
    var filtersEntries: Bool {
        if case let .tool(scope) = source { scope.filtered } else { false }
    }

    /// Whether an entry read from `ring` belongs in the answer (the tool-wide read's job and
    /// deployment filters look into events).
    func keeps(_ item: AgentItem, ring: AgentRing) -> Bool {
        guard case let .tool(scope) = source, let source = scope.source(of: ring) else { return true }
        return scope.keeps(item, source: source)
    }

    /// Marks an entry as the read presents it (the tool-wide read: with its source).
    func label(_ entry: inout ReadEntry, ring: AgentRing) {
        if case let .tool(scope) = source { scope.label(&entry, ring: ring) }
    }

    /// Narrows a source's rings to the runs asked for: `all`; a run id; or `latest`, which for
    /// continuous jobs and the webservice means the live pods (else the newest run), and for
    /// other kinds the newest run with all its segments.
    func choose(_ rings: [(AgentEndpoint, AgentRing)]) -> [(AgentEndpoint, AgentRing)] {
        let inContainer = rings.filter { container == nil || $0.1.container == container }
        switch source {
        case .activity, .custom, .build, .tool: return inContainer
        case .job, .webservice: break
        }
        switch run {
        case "all": return inContainer
        case "latest":
            let live = inContainer.filter { $0.1.state == .live && ($0.1.kind == .continuous || $0.1.kind == .webservice) }
            if !live.isEmpty { return live }
            guard let newest = inContainer.max(by: { ($0.1.startedAt ?? $0.1.firstTime ?? "") < ($1.1.startedAt ?? $1.1.firstTime ?? "") })
            else { return [] }
            return inContainer.filter { $0.1.run == newest.1.run }
        default:
            return inContainer.filter { $0.1.run == run }
        }
    }
}
