import ArgumentParser
import Foundation
import LogsAPITypes
import LogsCLI

/// Where the API is, who is asking, and how answers are shown: shared by every command. The
/// first four can also come from the environment (`TOOLFORGE_LOGS_URL`, …); flags win.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The logs API's base URL (TOOLFORGE_LOGS_URL; default: the platform API gateway's /logs).")
    var url: String?
    @Option(help: ArgumentHelp("The client certificate, PEM (TOOLFORGE_LOGS_CERT; default ~/.toolskube/client.crt).", valueName: "file"))
    var cert: String?
    @Option(help: ArgumentHelp("The client certificate's key, PEM (TOOLFORGE_LOGS_KEY; default ~/.toolskube/client.key).", valueName: "file"))
    var key: String?
    @Option(help: ArgumentHelp("The CA of the server's certificate (TOOLFORGE_LOGS_CA_FILE; default: the system store).", valueName: "file"))
    var caFile: String?
    @Option(name: [.short, .long], help: "text, or json (reads: one JSON log item a line; other commands: the answer's data).")
    var output: LogPrinter.Format = .text
    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR), always or never.")
    var color: Palette.Choice = .auto

    static let home = FileManager.default.homeDirectoryForCurrentUser.path

    static func env(_ name: String) -> String? {
        ProcessInfo.processInfo.environment["TOOLFORGE_LOGS_" + name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs `body` with a session for `tool` (the commands that act on a tool take `--tool`);
    /// a failure is printed as `Error: …` and ends with its status.
    func run(tool: ToolOption? = nil, _ body: (Session) throws(CLIFailure) -> Void) throws {
        let errorPalette = Palette(color, fileDescriptor: STDERR_FILENO)
        do {
            try body(try session(tool: tool?.tool, errorPalette: errorPalette))
        } catch {
            StandardStream.standardOutput.flush()
            StandardStream.standardError.line(errorPalette.error("Error: \(error.description)"))
            StandardStream.standardError.flush()
            throw ExitCode(error.exitCode)
        }
    }

    private func session(tool: String?, errorPalette: Palette) throws(CLIFailure) -> Session {
        let environment = ProcessInfo.processInfo.environment
        let (url, tool, cert, key, caFile) = (url ?? Self.env("URL"), tool ?? Self.env("TOOL"), cert ?? Self.env("CERT"),
                                              key ?? Self.env("KEY"), caFile ?? Self.env("CA_FILE"))
        do {
            let configuration = try ToolforgeConfiguration.load(files: ToolforgeConfiguration.files(home: Self.home), environment: environment)
            let certificate = try file(cert, default: Self.home + "/.toolskube/client.crt", flag: "--cert")
            let key = try file(key, default: Self.home + "/.toolskube/client.key", flag: "--key")
            let caFile = try file(caFile, default: nil, flag: "--ca-file")
            let connection = Connection(baseURL: try configuration.logsURL(flag: url), certificate: certificate, key: key, caFile: caFile)
            var tool = tool
            if tool == nil, let certificate { tool = try ClientCertificate(pemFile: certificate).tool }
            return Session(client: APIClient(connection), tool: tool,
                           certificate: certificate, format: output,
                           outputPalette: Palette(color, fileDescriptor: STDOUT_FILENO, environment: environment), errorPalette: errorPalette)
        } catch {
            throw .usage(error.description)
        }
    }

    /// A flag's file must exist; a default is used only when it does.
    private func file(_ flag: String?, default fallback: String?, flag name: String) throws(ConfigurationError) -> String? {
        if let flag {
            guard FileManager.default.isReadableFile(atPath: flag) else { throw ConfigurationError(description: "\(name): cannot read \(flag)") }
            return flag
        }
        return fallback.flatMap { FileManager.default.isReadableFile(atPath: $0) ? $0 : nil }
    }
}

/// The tool a command acts on, for the commands that act on one.
struct ToolOption: ParsableArguments {
    @Option(help: "The tool to act on (TOOLFORGE_LOGS_TOOL; default: the tool of the certificate in use).")
    var tool: String?
}

/// What one command works with: the API, the tool, and the two output streams.
struct Session {
    let client: APIClient
    let tool: String?
    let certificate: String?
    let format: LogPrinter.Format
    let outputPalette: Palette
    let errorPalette: Palette
    var output: StandardStream { .standardOutput }
    var errors: StandardStream { .standardError }

    func requireTool() throws(CLIFailure) -> String {
        guard let tool else {
            let whose = certificate.map { " (the certificate \($0) is not a tool's)" } ?? ""
            throw .usage("which tool? Pass --tool NAME\(whose)")
        }
        return tool
    }

    func printer(_ options: LogPrinter.Options) -> LogPrinter {
        LogPrinter(options: options, output: output, errors: errors, outputPalette: outputPalette, errorPalette: errorPalette)
    }

    /// The envelope's messages, each where it belongs.
    func show(_ messages: Components.Schemas.Messages) {
        let printer = printer(LogPrinter.Options(format: format))
        for text in messages.info { printer.message(level: "info", text) }
        for text in messages.warning { printer.message(level: "warning", text) }
        printer.flush()
    }

    /// An answer: its messages, then its data as a table, or as JSON with `-o json`.
    func present(_ messages: Components.Schemas.Messages, _ data: some Encodable, table: () -> Table) throws(CLIFailure) {
        show(messages)
        guard format == .text else { return try printJSON(data) }
        output.write(table().render())
        output.flush()
    }

    /// `data` as JSON on standard output (for `-o json`).
    func printJSON(_ value: some Encodable) throws(CLIFailure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            output.write(try encoder.encode(value))
        } catch {
            throw .connection("cannot write the answer as JSON: \(error)")
        }
        output.line("")
        output.flush()
    }
}

extension LogPrinter.Format: ExpressibleByArgument {}
extension Palette.Choice: ExpressibleByArgument {}
