import ArgumentParser
import LogModel
import LogsCLI

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "What is kept for the tool: one row per log.")
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run(tool: tool) { session throws(CLIFailure) in
            let answer = try session.client.json("GET", APIClient.toolPath(try session.requireTool()) + "/inventory",
                                                 as: Components.Schemas.InventoryResponse.self)
            try session.present(answer.messages, answer.data) {
                var table = Table("KIND", "NAME", "RUN", "POD/CONTAINER", "NODE", "STATE", "STARTED", "EXIT", "KEPT", "DROPPED")
                for ring in answer.data.rings {
                    table.add(ring.kind.rawValue, ring.name, ring.run, "\(ring.pod ?? "-")/\(ring.container ?? "-")",
                              ring.node + (ring.available ? "" : " (unreachable)"), ring.state.rawValue, Table.time(ring.started),
                              ring.exitCode.map(String.init) ?? "-", ByteCount.text(ring.bytesKept ?? 0), ByteCount.text(ring.bytesDropped ?? 0))
                }
                return table
            }
        }
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "The runs of a job, newest first.")
    @Argument(help: "The job's name.") var name: String
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run(tool: tool) { session throws(CLIFailure) in
            let answer = try session.client.json("GET", APIClient.toolPath(try session.requireTool()) + "/job/\(APIClient.escaped(name))/runs",
                                                 as: Components.Schemas.RunsResponse.self)
            try session.present(answer.messages, answer.data) {
                var table = Table("RUN", "STATE", "STARTED", "FINISHED", "EXIT", "REASON", "KEPT")
                for run in answer.data.runs {
                    table.add(run.run, run.state.rawValue + (run.available == false ? " (unreachable)" : ""), Table.time(run.started),
                              Table.time(run.finished), run.exitCode.map(String.init) ?? "-", run.reason ?? "-", ByteCount.text(run.bytesKept ?? 0))
                }
                return table
            }
        }
    }
}
