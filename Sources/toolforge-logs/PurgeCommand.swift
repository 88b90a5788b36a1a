import ArgumentParser
import LogsAPITypes
import LogsCLI

struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Remove logs for good, from every node (for example a run that printed a secret).",
        subcommands: [PurgeJobCommand.self, PurgeBuildCommand.self])
}

struct PurgeJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Purge one run of a job, or all of them.")
    @Argument(help: "The job's name.") var name: String
    @Option(name: .customLong("run"), help: "The run to purge, or `all` for every run of the job.") var runID: String
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let job = "/job/\(APIClient.escaped(name))"
        try purge(runID == "all" ? job + "/logs" : job + "/runs/\(APIClient.escaped(runID))", tool, global)
    }
}

struct PurgeBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Purge the logs of a build.")
    @Argument(help: "The build's id.") var id: String
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    func run() throws { try purge("/builds/\(APIClient.escaped(id))", tool, global) }
}

private func purge(_ path: String, _ tool: ToolOption, _ global: GlobalOptions) throws {
    try global.run(tool: tool) { session throws(CLIFailure) in
        let answer = try session.client.json("DELETE", APIClient.toolPath(try session.requireTool()) + path,
                                             as: Components.Schemas.PurgeResponse.self)
        guard session.format == .text else { return try session.printJSON(answer.data) }
        session.show(answer.messages)
        if answer.messages.info.isEmpty { session.output.line("purged") }
        session.output.flush()
    }
}
