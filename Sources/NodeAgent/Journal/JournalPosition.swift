import SystemdSupport

/// How far a ring has taken the journal, stored as the ring's source position with every
/// append: the realtime (µs, 8 bytes little-endian) and cursor of the last entry taken.
/// The cursor resumes exactly; the realtime is the fallback once that entry is vacuumed, and
/// orders positions to find where a restart must read from.
struct JournalPosition: Equatable {
    var realtime: UInt64
    /// Empty for ``head`` (nothing read yet), or when the cursor would not fit a source position.
    var cursor: String

    /// Before the first entry: a ring created on the journal's first batch holds this until its
    /// first append, so that a crash in between replays that batch for it.
    static let head = JournalPosition(realtime: 0, cursor: "")

    init(realtime: UInt64, cursor: String) {
        self.realtime = realtime
        self.cursor = cursor
    }

    init(_ entry: JournalEntry) { self.init(realtime: entry.realtime, cursor: entry.cursor) }

    /// Nil for a ring that has no position: created, then killed before its first commit.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        realtime = bytes[..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        cursor = String(decoding: bytes[8...], as: UTF8.self)
    }

    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: realtime.littleEndian) { bytes.append(contentsOf: $0) }
        // libsystemd's cursors are about 150 bytes; should one ever not fit, the realtime alone
        // still resumes (less exactly) rather than failing every append.
        if cursor.utf8.count <= JournalPosition.maxCursor { bytes += cursor.utf8 }
        return bytes
    }

    /// The ring store keeps at most 256 bytes of source position.
    static let maxCursor = 256 - 8
}
