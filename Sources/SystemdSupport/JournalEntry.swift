/// One journal entry as stored, with every field it has.
public struct JournalEntry: Sendable, Equatable {
    /// Where to resume after this entry; see ``JournalReader/seek(cursor:)``.
    public var cursor: String
    /// Microseconds since the Unix epoch, when the entry was received.
    public var realtime: UInt64
    /// Field values as raw bytes: the journal takes any bytes (`MESSAGE` may be binary), so
    /// decoding is left to the caller. A field the entry repeats keeps the first value libsystemd
    /// enumerates, which need not be the first written: the journal stores an entry's fields in
    /// file order.
    public var fields: [String: [UInt8]]

    public init(cursor: String, realtime: UInt64, fields: [String: [UInt8]]) {
        self.cursor = cursor
        self.realtime = realtime
        self.fields = fields
    }

    /// The field decoded as UTF-8, with invalid bytes replaced by U+FFFD: a log line with one
    /// bad byte is still worth reading. Use ``fields`` where the exact bytes matter.
    public func string(_ name: String) -> String? {
        fields[name].map { String(decoding: $0, as: UTF8.self) }
    }
}
