import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Reads entries from journal files in order, and resumes where an earlier reader left off.
///
/// Not `Sendable`: an `sd_journal` must not be used from two threads at once. Since ``wait(timeout:)``
/// blocks its thread, open and use a reader on one dedicated thread.
public final class JournalReader {
    private let journal: OpaquePointer
    /// The entry under the read position has not been returned yet: ``seek(cursor:)`` moved onto
    /// it because the entry at the cursor itself is gone (rotated or vacuumed).
    private var currentIsUnread = false

    /// Reads the journal files in `directory` (not its subdirectories).
    public init(directory: String) throws {
        var journal: OpaquePointer?
        try check("sd_journal_open_directory", sd_journal_open_directory(&journal, directory, 0))
        self.journal = journal!
        try removeDataThreshold()
    }

    /// Reads exactly the given journal files; fails if any of them is not a journal file.
    /// (A directory instead leaves such files out.)
    public init(files: [String]) throws {
        var journal: OpaquePointer?
        var paths: [UnsafePointer<CChar>?] = files.map { UnsafePointer(strdup($0)) } + [nil]
        defer { for path in paths { free(UnsafeMutablePointer(mutating: path)) } }
        try check("sd_journal_open_files", sd_journal_open_files(&journal, &paths, 0))
        self.journal = journal!
        try removeDataThreshold()
    }

    deinit { sd_journal_close(journal) }

    /// By default libsystemd may stop decompressing a field after 64 KiB and return only that
    /// much; a log line must come back whole.
    private func removeDataThreshold() throws {
        try check("sd_journal_set_data_threshold", sd_journal_set_data_threshold(journal, 0))
    }

    /// Positions before the first entry.
    public func seekHead() throws {
        currentIsUnread = false
        try check("sd_journal_seek_head", sd_journal_seek_head(journal))
    }

    /// Positions after the last entry: ``next()`` returns `nil` until more entries are written,
    /// then returns those.
    public func seekTail() throws {
        currentIsUnread = false
        try check("sd_journal_seek_tail", sd_journal_seek_tail(journal))
        // Step back onto the last entry, which then counts as read: `sd_journal_next` straight
        // after a tail seek returns the last entry of every file (systemd issue 9934).
        try check("sd_journal_previous", sd_journal_previous(journal))
    }

    /// Positions after the entry with this cursor, which was read before, so that ``next()``
    /// returns the entry following it. If that entry is gone, ``next()`` returns the first entry
    /// after where it was.
    public func seek(cursor: String) throws {
        currentIsUnread = false
        try check("sd_journal_seek_cursor", sd_journal_seek_cursor(journal, cursor))
        // A seek only aims the read position; stepping is what lands on an entry, which is the
        // cursor's own entry if it still exists, or else the nearest one after it.
        guard try check("sd_journal_next", sd_journal_next(journal)) > 0 else { return }
        currentIsUnread = try check("sd_journal_test_cursor", sd_journal_test_cursor(journal, cursor)) == 0
    }

    /// Advances to the next entry and returns it, or returns `nil` at the end of the journal.
    public func next() throws -> JournalEntry? {
        if currentIsUnread {
            currentIsUnread = false
        } else if try check("sd_journal_next", sd_journal_next(journal)) == 0 {
            return nil
        }
        return try currentEntry()
    }

    /// Blocks until the journal changes or `timeout` passes; true if entries may have been
    /// added, removed or rotated, so that ``next()`` is worth calling again.
    ///
    /// The first call starts watching and returns true at once: libsystemd cannot know what
    /// changed before it watched. Watching takes an inotify instance, so readers that never
    /// wait do not pay for one.
    public func wait(timeout: Duration) throws -> Bool {
        let (seconds, attoseconds) = timeout.components
        let usec = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        return try check("sd_journal_wait", sd_journal_wait(journal, UInt64(usec))) != SD_JOURNAL_NOP
    }

    private func currentEntry() throws -> JournalEntry {
        var cursor: UnsafeMutablePointer<CChar>?
        try check("sd_journal_get_cursor", sd_journal_get_cursor(journal, &cursor))
        defer { free(cursor) }

        var realtime: UInt64 = 0
        try check("sd_journal_get_realtime_usec", sd_journal_get_realtime_usec(journal, &realtime))

        var fields: [String: [UInt8]] = [:]
        var data: UnsafeRawPointer?
        var length = 0
        sd_journal_restart_data(journal)
        while try check("sd_journal_enumerate_data", sd_journal_enumerate_data(journal, &data, &length)) > 0 {
            let field = UnsafeRawBufferPointer(start: data, count: length)
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: field[..<equals], as: UTF8.self)
            if fields[name] == nil {
                fields[name] = Array(field[(equals + 1)...])
            }
        }
        return JournalEntry(cursor: String(cString: cursor!), realtime: realtime, fields: fields)
    }
}

/// Turns libsystemd's negative-errno results into throws, passing other results through.
@discardableResult
private func check(_ operation: String, _ result: Int32) throws -> Int32 {
    guard result >= 0 else { throw JournalError.failed(operation: operation, errno: -result) }
    return result
}

extension JournalReader {
    /// The cursors of `cursors` whose entry is still in the journal `directory`. A cursor whose
    /// entry was vacuumed is never met again while reading, so a reader that resumes from it
    /// must go by realtime instead; seeking alone cannot tell the two apart.
    public static func existing(_ cursors: Set<String>, directory: String) -> Set<String> {
        guard !cursors.isEmpty else { return [] }
        var opened: OpaquePointer?
        guard sd_journal_open_directory(&opened, directory, 0) >= 0, let journal = opened else { return [] }
        defer { sd_journal_close(journal) }
        return cursors.filter { cursor in
            sd_journal_seek_cursor(journal, cursor) >= 0 && sd_journal_next(journal) > 0
                && sd_journal_test_cursor(journal, cursor) > 0
        }
    }
}
