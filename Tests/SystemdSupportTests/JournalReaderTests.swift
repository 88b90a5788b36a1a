import Foundation
import TestSupport
import SystemdSupport
import Testing

@Suite(.timeLimit(.minutes(3))) struct JournalReaderTests {
    enum Opening: CaseIterable { case files, directory }

    let directory = Scratch("systemd-test")
    let path: String

    init() throws {
        path = directory.file("test.journal")
        try JournalFixture.writeJournal(to: path)
    }

    func open(_ opening: Opening = .files) throws -> JournalReader {
        switch opening {
        case .files: try JournalReader(files: [path])
        case .directory: try JournalReader(directory: directory.path)
        }
    }

    func readAll(_ reader: JournalReader) throws -> [JournalEntry] {
        var entries: [JournalEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    @Test(arguments: Opening.allCases)
    func readsEveryEntryInOrder(_ opening: Opening) throws {
        let reader = try open(opening)
        let entries = try readAll(reader)
        let expected = JournalFixture.entries
        try #require(entries.count == expected.count)
        #expect(entries.map { $0.fields["MESSAGE"] } == expected.map { $0.value("MESSAGE") })
        #expect(entries[2].fields["MESSAGE"] == JournalFixture.binaryMessage)
        #expect(entries.map { $0.string("CONTAINER_NAME") } == ["web", "worker", "web", "worker", "web"])
        #expect(entries.map(\.realtime) == expected.map(\.realtime))
        #expect(entries.allSatisfy { $0.string("PRIORITY") == "6" && $0.fields["_BOOT_ID"] != nil })
        #expect(Set(entries.map(\.cursor)).count == 5)
        #expect(try reader.next() == nil)
    }

    @Test func decodesTextLeniently() throws {
        let entries = try readAll(open())
        try #require(entries.count == 5)
        let entry = entries[2]
        #expect(entry.string("MESSAGE") == "\0\u{FFFD}\u{FFFD}\n=not UTF-8")
        #expect(entry.string("NO_SUCH_FIELD") == nil)
    }

    /// The journal keeps an entry's fields ordered by where their values sit in the file, not as
    /// written: "beta" was stored with the first entry, so it comes before "alpha" in the fourth.
    @Test func keepsTheFirstEnumeratedValueOfARepeatedField() throws {
        let entries = try readAll(open())
        try #require(entries.count == 5)
        #expect(entries[3].string("TOOL_TAG") == "beta")
    }

    @Test func resumesAfterTheCursor() throws {
        let cursors = try readAll(open()).map(\.cursor)
        let reader = try open(.directory)
        try reader.seek(cursor: cursors[1])
        #expect(try reader.next()?.fields["MESSAGE"] == JournalFixture.binaryMessage)
        #expect(try reader.next()?.string("MESSAGE") == "line 3")
        try reader.seek(cursor: cursors[4])
        #expect(try reader.next() == nil)
    }

    /// A cursor from a journal that no longer holds its entry (here: another file, without it)
    /// resumes at the first entry after where it was.
    @Test func resumesAfterAVanishedEntry() throws {
        let cursors = try readAll(open()).map(\.cursor)
        let other = Scratch("systemd-test")
        var entries = JournalFixture.entries
        entries.remove(at: 1)
        try JournalFixture.writeJournal(entries, to: other.file("other.journal"))
        let reader = try JournalReader(directory: other.path)
        try reader.seek(cursor: cursors[1])
        #expect(try reader.next()?.fields["MESSAGE"] == JournalFixture.binaryMessage)
        #expect(try reader.next()?.string("MESSAGE") == "line 3")
    }

    @Test func seeksHeadAndTail() throws {
        let reader = try open()
        try reader.seekTail()
        #expect(try reader.next() == nil)
        try reader.seekHead()
        #expect(try reader.next()?.string("MESSAGE") == "line 0")
    }

    /// Following from the tail of a directory is where libsystemd's own `seek_tail` + `next`
    /// goes wrong: it returns the last entry of each file.
    @Test func followsNewFilesFromTheTail() throws {
        try JournalFixture.writeJournal(Array(JournalFixture.entries.prefix(2)), to: directory.file("older.journal"))
        let reader = try open(.directory)
        try reader.seekTail()
        #expect(try reader.next() == nil)
        // The first wait starts watching and reports a change at once.
        #expect(try reader.wait(timeout: .seconds(5)))
        #expect(try !reader.wait(timeout: .milliseconds(20)))

        try JournalFixture.writeJournal([JournalFixture.entry(5)], to: directory.file("later.journal"))
        #expect(try reader.wait(timeout: .seconds(5)))
        #expect(try reader.next()?.string("MESSAGE") == "line 5")
        #expect(try reader.next() == nil)
    }

    @Test func missingDirectoryFailsToOpen() throws {
        let error = #expect(throws: JournalError.self) { try JournalReader(directory: directory.file("missing")) }
        #expect(error == .failed(operation: "sd_journal_open_directory", errno: ENOENT))
        #expect(error?.description == "sd_journal_open_directory: No such file or directory")
    }

    /// A file that is not a journal fails an explicit list, but a directory just leaves it out.
    @Test func garbageFileFailsToOpenButIsSkippedInADirectory() throws {
        let garbage = directory.file("garbage.journal")
        try Array(repeating: "not a journal\n", count: 1000).joined().replace(file: garbage)
        #expect(throws: JournalError.self) { try JournalReader(files: [path, garbage]) }
        #expect(try readAll(open(.directory)).count == 5)
    }

    @Test func malformedCursorFailsToSeek() throws {
        let reader = try open()
        #expect(throws: JournalError.failed(operation: "sd_journal_seek_cursor", errno: EINVAL)) {
            try reader.seek(cursor: "not a cursor")
        }
    }
}
