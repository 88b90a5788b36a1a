import ArgumentParser
import LogModel
import LogsAPITypes
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
                // Folded runs are listed by `runs`, a page at a time: here one row per job and node.
                for job in answer.data.folded ?? [] {
                    table.add(job.kind.rawValue, job.name, "(folded: runs \(job.name))", "-", job.node + (job.available ? "" : " (unreachable)"),
                              "finished", "-", "-", "-", "-")
                }
                return table
            }
        }
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "The runs of a job, newest first, a page at a time.",
        discussion: """
            A job's history reaches back as far as its tool's share of each node's log budget holds \
            (14 days at most on the platform): finished runs are kept by size, not by count. The \
            last line says how many runs are kept and when the oldest started, and how to see the \
            next page (--before), like `git log`.
            """)
    @Argument(help: "The job's name.") var name: String
    @Option(name: [.short, .customLong("limit")], help: "Runs a page (1 to 1000).") var limit = 50
    @Option(help: "Runs after this one: the `--before` printed under the previous page.") var before: String?
    @Flag(help: "Only runs that failed (exited non-zero or were OOM-killed).") var failed = false
    @Flag(help: "Every page, one after another.") var all = false
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit: from 1 to 1000, not \(limit)") }
    }

    func run() throws {
        try global.run(tool: tool) { session throws(CLIFailure) in
            var cursor = before
            repeat {
                var query = [("limit", String(limit))]
                if let cursor { query.append(("before", cursor)) }
                if failed { query.append(("state", "failed")) }
                let answer = try session.client.json("GET", APIClient.toolPath(try session.requireTool())
                                                         + "/job/\(APIClient.escaped(name))/runs" + APIClient.query(query),
                                                     as: Components.Schemas.RunsResponse.self)
                try session.present(answer.messages, answer.data) {
                    var table = Table("RUN", "STATE", "STARTED", "FINISHED", "EXIT", "REASON", "KEPT")
                    for run in answer.data.runs {
                        table.add(run.run, run.state.rawValue + (run.available == false ? " (unreachable)" : ""), Table.time(run.started),
                                  Table.time(run.finished), run.exitCode.map(String.init) ?? "-", run.reason ?? "-",
                                  ByteCount.text(run.bytesKept ?? 0))
                    }
                    return table
                }
                cursor = answer.data.next
                if session.format == .text, !all || cursor == nil { session.errors.line(footer(answer.data)) }
            } while all && cursor != nil
            session.errors.flush()
        }
    }

    /// How far the history goes, and the command for the next page.
    private func footer(_ data: Components.Schemas.RunsResponse.DataPayload) -> String {
        let kept = "\(data.total) \(failed ? "failed " : "")run\(data.total == 1 ? "" : "s") kept"
            + (data.oldest.map { ", the oldest started \(Table.time($0))" } ?? "")
        guard let next = data.next else { return kept }
        let tool = tool.tool.map { " --tool \($0)" } ?? ""
        return kept + "; more: toolforge-logs runs \(name)\(tool)\(failed ? " --failed" : "") --before \(next)"
    }
}
