import LogModel
import RingStore
import SystemdSupport

/// The ring a journal entry belongs to: one per (tool, container name, container run).
struct JournalRoute: Equatable {
    var tool: String
    var name: String
    var run: String

    /// Stored in the ring's metadata (its `origin`) to find the ring again after a restart.
    var key: String { "\(tool)/\(name)/\(run)" }

    /// Another run of the same container, or the same run.
    func sameContainer(as other: JournalRoute) -> Bool { tool == other.tool && name == other.name }

    func metadata(node: String, startedAt: Int64, segment: Int = 0) -> RingMetadata {
        var metadata = RingMetadata(tool: tool, kind: .continuous, name: name, run: run, segment: segment, node: node, startedAt: startedAt)
        metadata.origin = .journal(key: key)
        return metadata
    }
}

/// Turns journal entries into routes and records, by a ``JournalConfiguration``.
struct JournalMapper {
    let configuration: JournalConfiguration
    private let pattern: Regex<(Substring, Substring)>?
    /// The pattern's answer by container name: a node has few names and many lines, and a
    /// `Regex` match costs far more than a lookup.
    private var patternTools: [String: String] = [:]
    private static let maxPatternTools = 4096

    init(_ configuration: JournalConfiguration) throws {
        self.configuration = configuration
        pattern = try configuration.toolPattern.map { try Regex($0, as: (Substring, Substring).self) }
    }

    /// Nil when the entry names no tool, or one that is not an RFC 1123 label (which would let
    /// a log line pick any name, including a path).
    mutating func route(_ entry: JournalEntry) -> JournalRoute? {
        let container = entry.string(configuration.nameField)
        guard let tool = entry.string(configuration.toolField) ?? container.flatMap({ tool(matching: $0) }),
              NameRules.isLabel(tool) else { return nil }
        let name = container ?? "journal"
        return JournalRoute(tool: tool, name: name, run: entry.string(configuration.runField) ?? name)
    }

    private mutating func tool(matching container: String) -> String? {
        guard let pattern else { return nil }
        if let known = patternTools[container] { return known.isEmpty ? nil : known }
        let tool = (try? pattern.firstMatch(in: container)).map { String($0.output.1) } ?? ""
        if patternTools.count >= JournalMapper.maxPatternTools { patternTools.removeAll(keepingCapacity: true) }
        patternTools[container] = tool
        return tool.isEmpty ? nil : tool
    }

    /// The entry as a ring record; nil without `MESSAGE`. Syslog priorities 0-3 (emerg to err)
    /// count as stderr, the journal's nearest to a container's error stream.
    static func record(_ entry: JournalEntry) -> AppendEntry? {
        guard let message = entry.fields["MESSAGE"] else { return nil }
        let priority = entry.string("PRIORITY").flatMap { Int($0) }
        let stream: LogStream = (priority ?? 6) <= 3 ? .stderr : .stdout
        let (nanos, overflow) = Int64(clamping: entry.realtime).multipliedReportingOverflow(by: 1000)
        return .line(timestamp: overflow ? .max : nanos, stream: stream, flags: [], payload: message)
    }
}
