import ArgumentParser
import LogModel
import LogsCLI

/// What to read and how, with the habits of kubectl, journalctl and `toolforge jobs logs`.
struct ReadOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Keep printing new lines as they come.")
    var follow = false
    // `.unconditional`: `-n -1` is a bad count, said as such, not a missing value.
    @Option(name: [.customShort("n"), .long], parsing: .unconditional,
            help: "The last N lines (default 500 without --since; with it, every line since).")
    var lines: Int?
    @Option(name: [.customShort("l"), .long], parsing: .unconditional, help: "The same as --lines.")
    var last: Int?
    // `.unconditional`: `--since -5m` is a bad time, said as such, not a missing value.
    @Option(parsing: .unconditional, help: "From this time: a duration ago (90s, 10m, 2h, 3d, 1h30m) or an RFC 3339 time (2026-12-06T10:00:00Z).")
    var since: String?
    @Option(parsing: .unconditional, help: "Up to this time: a duration ago or an RFC 3339 time.")
    var until: String?
    @Flag(name: [.short, .long], help: "Show each line's time.")
    var timestamps = false
    @Option(help: "Only lines that contain this text.")
    var grep: String?
    @Flag(help: "Print lines' bytes as they are, even on a terminal (control sequences included).")
    var raw = false

    func validate() throws {
        if lines != nil, last != nil { throw ValidationError("--lines and --last say the same: give one") }
        if let count = lines ?? last, !(0...100_000).contains(count) { throw ValidationError("--lines: must be from 0 to 100000") }
        for (flag, text) in [("--since", since), ("--until", until)] {
            if let text { try Self.checkTime(text, flag: flag) }
        }
        if let since, let until, since == until { throw ValidationError("--since and --until are the same time") }
        if let since, until == nil, !follow, TimeSpec.duration(since) == 0 {
            throw ValidationError("--since \(since) is now: nothing is there yet (add --follow for the lines from now on)")
        }
    }

    /// The API also takes nanoseconds since the epoch, for programs; a person who types a bare
    /// number meant something else (`--since 5`), and read the whole log without a word.
    static func checkTime(_ text: String, flag: String) throws {
        let accepted = "a duration ago (90s, 10m, 2h, 3d, 1h30m) or an RFC 3339 time (2026-12-06T10:00:00Z)"
        if TimeSpec.duration(text) != nil || NanoTime.parse(text) != nil { return }
        if text.hasPrefix("-"), TimeSpec.duration(String(text.dropFirst())) != nil {
            throw ValidationError("\(flag) \(text): a duration counts back from now, without a sign (\(flag) \(text.dropFirst()) for \(text.dropFirst()) ago)")
        }
        if !text.isEmpty, text.allSatisfy(\.isNumber) {
            throw ValidationError("\(flag) \(text): a bare number is no time; give \(accepted)")
        }
        throw ValidationError("\(flag) \(text): expected \(accepted)")
    }

    static let defaultLines = 500
    /// The API reads the last hour by default; this CLI, everything kept.
    static let beginning = "1970-01-01T00:00:00Z"

    /// The last N lines are read newest first (and printed oldest first): given `-n`, or without
    /// `--since`. A follow asks for its last lines oldest first.
    var newestFirst: Bool { !follow && (lines ?? last ?? 1) > 0 && (lines ?? last != nil || since == nil) }

    /// Where a read starts. `-n 0` asks for no lines (a follow of what comes from now on); the
    /// API's `lines=0` would mean all of them.
    var start: [(String, String)] {
        let count = lines ?? last ?? (since == nil ? Self.defaultLines : nil)
        if count == 0 { return [("since", "0s")] }
        return Self.given([("lines", count.map(String.init)), ("since", since ?? Self.beginning),
                           ("direction", newestFirst ? "newest_first" : nil)])
    }

    /// What still applies when a follow resumes from a cursor: the command's narrowing too.
    func filters(_ narrowing: [(String, String?)]) -> [(String, String)] {
        Self.given(narrowing + [("grep", grep), ("until", until)])
    }

    /// The parameters that were given.
    private static func given(_ parameters: [(String, String?)]) -> [(String, String)] {
        parameters.compactMap { name, value in value.map { (name, $0) } }
    }

    /// Reads `path` (under the tool) and prints it.
    func read(_ path: String, narrowing: [(String, String?)], _ tool: ToolOption, _ global: GlobalOptions) throws {
        // No lines asked for, and none to wait for.
        if lines ?? last == 0, !follow { return }
        try global.run(tool: tool) { session throws(CLIFailure) in
            let printer = session.printer(LogPrinter.Options(format: session.format, timestamps: timestamps, raw: raw))
            let reader = LogReader(client: session.client, printer: printer, errors: session.errors, errorPalette: session.errorPalette)
            try reader.read(APIClient.toolPath(try session.requireTool()) + path,
                            parameters: start, filters: filters(narrowing), follow: follow, newestFirst: newestFirst)
            // As journalctl does: a person at a terminal learns that nothing matched.
            if !follow, reader.printed == 0, session.output.isTerminal {
                session.errors.line(session.errorPalette.dim("-- No entries --"))
                session.errors.flush()
            }
        }
    }
}
