import ArgumentParser
import LogsCLI

/// A command that reads one log endpoint of the tool, with the read flags.
protocol LogCommand: ParsableCommand {
    var read: ReadOptions { get }
    var global: GlobalOptions { get }
    /// The endpoint under `/v1/tool/NAME`.
    var path: String { get }
    /// The run read when none is given, where the endpoint has runs.
    var defaultRun: String? { get }
}

extension LogCommand {
    var defaultRun: String? { nil }
    func run() throws { try read.read(path, run: defaultRun, global) }
}

struct JobCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "The logs of a job (continuous, scheduled or one-off).")
    @Argument(help: "The job's name.") var name: String
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions
    var path: String { "/job/\(APIClient.escaped(name))/logs" }
    /// The API reads every run; this CLI, the newest (or the live pods), unless told.
    var defaultRun: String? { "latest" }
}

struct WebserviceCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "webservice", abstract: "The logs of the webservice, all replicas merged.")
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions
    var path: String { "/webservice/logs" }
}

struct BuildCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "The logs of an image build.")
    @Argument(help: "The build's id.") var id: String
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions
    var path: String { "/builds/\(APIClient.escaped(id))/logs" }
}

struct ActivityCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "activity", abstract: "What happened to the tool's pods: starts, exits, restarts.")
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions
    var path: String { "/activity" }
}

struct SourceCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "source", abstract: "The lines pushed to a custom source.")
    @Argument(help: "The source's name.") var name: String
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions
    var path: String { "/source/\(APIClient.escaped(name))/logs" }
}
