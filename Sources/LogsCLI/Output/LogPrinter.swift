import Foundation
import LogModel

/// Prints log items as they arrive. Text: `[pod/container] message` (with `-t`, the time first),
/// stderr lines marked, gaps as a visible line, messages as `Warning: …` on standard error.
/// JSON: the items themselves, one per line, for `jq` and friends; messages to standard error.
package struct LogPrinter {
    package enum Format: String, CaseIterable, Sendable { case text, json }

    package struct Options: Sendable {
        package var format: Format = .text
        package var timestamps = false
        /// Bytes as they are, even on a terminal.
        package var raw = false

        package init(format: Format = .text, timestamps: Bool = false, raw: Bool = false) {
            self.format = format
            self.timestamps = timestamps
            self.raw = raw
        }
    }

    let options: Options
    let output: StandardStream
    let errors: StandardStream
    let outputPalette: Palette
    let errorPalette: Palette
    /// The source of a partial line still being printed: its continuation gets no prefix.
    private var openLine: Source?
    private var lastHeader: (source: Source, stderr: Bool, text: String)?

    package init(options: Options, output: StandardStream, errors: StandardStream, outputPalette: Palette, errorPalette: Palette) {
        self.options = options
        self.output = output
        self.errors = errors
        self.outputPalette = outputPalette
        self.errorPalette = errorPalette
    }

    /// One NDJSON line from the server, read as `item`.
    package mutating func print(_ item: StreamedEntry, json line: ArraySlice<UInt8>) {
        switch (item.type, options.format) {
        case (.heartbeat, _):
            return
        case (.message, _):
            // What a read says about itself goes to standard error, whatever its level: standard
            // output holds the log.
            closeLine()
            message(level: item.level ?? "info", item.message ?? "", toErrors: true)
        case (_, .json):
            output.write(line)
            output.write("\n")
        case (.gap, .text):
            closeLine()
            output.line(outputPalette.warning(prefix(item) + Self.gapText(item)))
        case (.log, .text):
            text(item)
        }
    }

    private mutating func text(_ item: StreamedEntry) {
        // Events and pushed lines come from no pod: they get no `[pod/container]`.
        let source = Source(pod: item.pod, container: item.container)
        if openLine != source {
            closeLine()
            output.write(outputPalette.dim(prefix(item)))
            output.write(header(source, stderr: item.stream == "stderr"))
        }
        var message = item.message ?? ""
        if options.raw, let base64 = item.messageBase64, let bytes = Data(base64Encoded: base64) {
            output.write(bytes)
            message = ""
        }
        output.write(output.isTerminal && !options.raw ? TerminalText.neutralised(message) : message)
        if item.partial {
            openLine = source
        } else {
            output.write("\n")
            openLine = nil
        }
    }

    /// Where a line comes from, as its entry names it.
    struct Source: Equatable {
        var pod: String?
        var container: String?
    }

    /// `[pod/container] `, or `[pod/container stderr] `: made once for a run of lines of one
    /// source and stream, not for every line (a download prints a million).
    private mutating func header(_ source: Source, stderr: Bool) -> String {
        if let last = lastHeader, last.source == source, last.stderr == stderr { return last.text }
        let name = [source.pod, source.container].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
        let marker = stderr ? outputPalette.error(name.isEmpty ? "stderr" : " stderr") : ""
        let text = name.isEmpty && marker.isEmpty ? "" : "[" + name + marker + "] "
        lastHeader = (source, stderr, text)
        return text
    }

    private func prefix(_ item: StreamedEntry) -> String {
        guard options.timestamps, let datetime = item.datetime else { return "" }
        return Self.milliseconds(datetime) + " "
    }

    /// A partial line cut short (by a gap, a message or the end) still ends with a newline.
    package mutating func closeLine() {
        if openLine != nil { output.write("\n") }
        openLine = nil
    }

    package func flush() {
        output.flush()
        errors.flush()
    }

    /// A message: an envelope's info on standard output (unless the output is JSON, or
    /// `toErrors`), the rest on standard error.
    package func message(level: String, _ text: String, toErrors: Bool = false) {
        switch level {
        case "error": errors.line(errorPalette.error("Error: " + text))
        case "warning": errors.line(errorPalette.warning("Warning: " + text))
        default:
            if options.format == .json || toErrors { errors.line(errorPalette.info(text)) } else { output.line(outputPalette.info(text)) }
        }
    }

    /// `… 12,345 lines (3.1 MiB) not kept (rolled over) …`
    package static func gapText(_ item: StreamedEntry) -> String {
        GapText.describe(records: Int(clamping: item.records ?? 0), bytes: item.bytes.map { Int(clamping: $0) }, reason: item.reason)
    }

    /// `2026-11-22T10:00:00.123456789Z` as `2026-11-22T10:00:00.123Z`.
    package static func milliseconds(_ datetime: String) -> String {
        guard let dot = datetime.firstIndex(of: "."), datetime.hasSuffix("Z") else { return datetime }
        let fraction = datetime[datetime.index(after: dot)...].dropLast()
        return datetime[..<dot] + "." + (fraction + "000").prefix(3) + "Z"
    }
}

/// Byte counts as people read them: decimal units, one decimal place.
