import ArgumentParser
import LogsCLI

/// A command that reads one log endpoint of the tool, with the read flags.
protocol LogCommand: ParsableCommand {
    var read: ReadOptions { get }
    var tool: ToolOption { get }
    var global: GlobalOptions { get }
    /// The endpoint under `/v1/tool/NAME`.
    var path: String { get }
    /// What narrows this endpoint's reads besides the read flags (still applied when a follow
    /// resumes from a cursor).
    var narrowing: [(String, String?)] { get }
}

extension LogCommand {
    var narrowing: [(String, String?)] { [] }
    func run() throws { try read.read(path, narrowing: narrowing, tool, global) }
}

/// Which of several containers and streams a read shows (jobs, the webservice, builds).
struct ContainerOptions: ParsableArguments {
    @Option(help: "all, stdout or stderr.")
    var stream: String?
    @Option(help: "Only this container.")
    var container: String?

    func validate() throws {
        if let stream, !["all", "stdout", "stderr"].contains(stream) { throw ValidationError("--stream: all, stdout or stderr, not \(stream)") }
    }

    var narrowing: [(String, String?)] { [("stream", stream), ("container", container)] }
}

struct JobCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "The logs of a job (continuous, scheduled or one-off).")
    @Argument(help: "The job's name.") var name: String
    @Option(help: "latest (default: the newest run, or the live pods), all, or a run id.") var run: String?
    @OptionGroup var containers: ContainerOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions
    var path: String { "/job/\(APIClient.escaped(name))/logs" }
    /// The API reads every run; this CLI, the newest (or the live pods), unless told.
    var narrowing: [(String, String?)] { [("run", run ?? "latest")] + containers.narrowing }
}

struct WebserviceCommand: LogCommand {
    // ArgumentParser writes a usage of many optional options as `<options>`, which reads as required.
    static let configuration = CommandConfiguration(commandName: "webservice", abstract: "The logs of the webservice, all replicas merged.",
                                                    usage: "toolforge-logs webservice [<options>]")
    @Option(help: "latest (default: the live pods), all, or a run id.") var run: String?
    @OptionGroup var containers: ContainerOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions
    var path: String { "/webservice/logs" }
    var narrowing: [(String, String?)] { [("run", run)] + containers.narrowing }
}

struct BuildCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "The logs of an image build.")
    @Argument(help: "The build's id.") var id: String
    @OptionGroup var containers: ContainerOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions
    var path: String { "/builds/\(APIClient.escaped(id))/logs" }
    var narrowing: [(String, String?)] { containers.narrowing }
}

struct ActivityCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "activity", abstract: "What happened to the tool's pods: starts, exits, restarts.",
                                                    usage: "toolforge-logs activity [<options>]")
    @OptionGroup var read: ReadOptions
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions
    var path: String { "/activity" }
}

struct SourceCommand: LogCommand {
    static let configuration = CommandConfiguration(commandName: "source", abstract: "The lines pushed to a custom source.")
    @Argument(help: "The source's name.") var name: String
    @OptionGroup var read: ReadOptions
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions
    var path: String { "/source/\(APIClient.escaped(name))/logs" }
}
