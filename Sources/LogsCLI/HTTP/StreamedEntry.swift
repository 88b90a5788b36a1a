import LogModel

/// One entry of a streamed read (`application/x-ndjson`), as the CLI prints it: the members it
/// uses, read from the line in one pass (`JSONMembers`), the rest (a pushed line's fields, the
/// run, the node) left in the line, which `-o json` prints as it came.
package struct StreamedEntry: Equatable {
    package enum Kind: String { case log, gap, message, heartbeat }

    package var type: Kind
    package var datetime: String?
    package var stream: String?
    package var message: String?
    package var messageBase64: String?
    package var partial = false
    package var pod: String?
    package var container: String?
    package var cursor: String?
    package var records: UInt64?
    package var bytes: UInt64?
    package var reason: String?
    package var level: String?

    package init(type: Kind, datetime: String? = nil, stream: String? = nil, message: String? = nil, pod: String? = nil,
                 container: String? = nil, records: UInt64? = nil, bytes: UInt64? = nil, reason: String? = nil) {
        self.type = type
        self.datetime = datetime
        self.stream = stream
        self.message = message
        self.pod = pod
        self.container = container
        self.records = records
        self.bytes = bytes
        self.reason = reason
    }

    /// Not an entry of this API: not a JSON object, no known `type`, or a member of the wrong kind.
    package struct Malformed: Error {}

    /// Reads one line (without its newline).
    package init(line: UnsafeRawBufferPointer) throws(Malformed) {
        var entry = StreamedEntry(type: .heartbeat)
        var type: Kind?
        do {
            try JSONMembers.read(line) { name, value in
                func text() throws(Malformed) -> String? {
                    if case .null = value { return nil }
                    guard let text = value.text else { throw Malformed() }
                    return text
                }
                func count() throws(Malformed) -> UInt64? {
                    if case .null = value { return nil }
                    guard let count = value.unsigned else { throw Malformed() }
                    return count
                }
                // A chain of byte comparisons, most frequent first: a table of key paths measured
                // a fifth slower for the whole CLI.
                if name.is("type") {
                    guard let text = try text(), let kind = Kind(rawValue: text) else { throw Malformed() }
                    type = kind
                } else if name.is("message") {
                    entry.message = try text()
                } else if name.is("datetime") {
                    entry.datetime = try text()
                } else if name.is("stream") {
                    entry.stream = try text()
                } else if name.is("pod") {
                    entry.pod = try text()
                } else if name.is("container") {
                    entry.container = try text()
                } else if name.is("partial") {
                    if case let .bool(partial) = value { entry.partial = partial }
                } else if name.is("cursor") {
                    entry.cursor = try text()
                } else if name.is("message_b64") {
                    entry.messageBase64 = try text()
                } else if name.is("records") {
                    entry.records = try count()
                } else if name.is("bytes") {
                    entry.bytes = try count()
                } else if name.is("reason") {
                    entry.reason = try text()
                } else if name.is("level") {
                    entry.level = try text()
                }
            }
        } catch {
            throw Malformed()
        }
        guard let type else { throw Malformed() }
        entry.type = type
        self = entry
    }
}
