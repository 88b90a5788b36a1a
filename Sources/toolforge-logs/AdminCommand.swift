import ArgumentParser
import LogModel
import LogsAPITypes
import LogsCLI

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "For operators.", subcommands: [NodesCommand.self])
}

struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "Log buffer use per node (and per tool on one node).",
        discussion: """
            USED (BYTES per tool) is what the ring and history files take on disk; HOLDS, the log bytes
            in them as they were written; RATIO, HOLDS per byte USED (compression net of the files'
            headers; '-' under 1 MiB USED, where the headers are most of it). FOLDED runs live in their
            job's history file; EVICTED counts the runs retention removed since the agent started.
            """)
    @Argument(help: "One node, with its tools.") var node: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run { session throws(CLIFailure) in
            let messages: Components.Schemas.Messages
            let nodes: [Components.Schemas.NodeUsage]
            if let node {
                let answer = try session.client.json("GET", "/v1/admin/nodes/\(APIClient.escaped(node))", as: Components.Schemas.NodeResponse.self)
                (messages, nodes) = (answer.messages, [answer.data])
            } else {
                let answer = try session.client.json("GET", "/v1/admin/nodes", as: Components.Schemas.NodesResponse.self)
                (messages, nodes) = (answer.messages, answer.data.nodes)
            }
            try session.present(messages, nodes) {
                var table = Table("NODE", "USED", "HOLDS", "RATIO", "BUDGET", "LIVE", "FINISHED", "FOLDED", "EVICTED", "ROLLED", "DROPPED",
                                  "INGESTED", "STATE")
                for usage in nodes {
                    let state = !usage.available ? "unreachable" : usage.diskFull == true ? "disk full" : "ok"
                    table.add(usage.node, ByteCount.text(usage.usedBytes ?? 0), ByteCount.text(usage.keptBytes ?? 0),
                              ByteCount.ratio(usage.keptBytes ?? 0, usage.usedBytes ?? 0), ByteCount.text(usage.budgetBytes ?? 0),
                              String(usage.liveRings ?? 0), String(usage.finishedRings ?? 0), String(usage.foldedRings ?? 0),
                              String((usage.evicted ?? []).reduce(0) { $0 + $1.runs }), ByteCount.text(usage.rolledBytes ?? 0),
                              ByteCount.text(usage.droppedBytes ?? 0), ByteCount.text(usage.ingestedBytes ?? 0), state)
                }
                return table
            }
            if session.format == .text, node != nil, let tools = nodes.first?.tools, !tools.isEmpty {
                var perTool = Table("TOOL", "BYTES", "HOLDS", "RATIO", "RINGS", "LIVE", "RUNS", "FOLDED", "ROLLED", "DROPPED")
                for tool in tools {
                    perTool.add(tool.tool, ByteCount.text(tool.bytes), ByteCount.text(tool.keptBytes ?? 0),
                                ByteCount.ratio(tool.keptBytes ?? 0, tool.bytes), String(tool.rings), String(tool.liveRings ?? 0),
                                String(tool.runs ?? 0), String(tool.foldedRings ?? 0),
                                ByteCount.text(tool.rolledBytes ?? 0), ByteCount.text(tool.droppedBytes ?? 0))
                }
                session.output.write("\n" + perTool.render())
                session.output.flush()
            }
            if session.format == .text, node != nil, let usage = nodes.first, let reads = usage.reads {
                // Reads each tool runs and waits with now: who crowds the node's read threads.
                var perTool = Table("READS OF", "RUNNING", "WAITING")
                for tool in reads { perTool.add(tool.tool, String(tool.running), String(tool.waiting)) }
                session.output.write("\n" + (reads.isEmpty ? "no reads running" : perTool.render())
                                     + "; \(usage.readsRefused ?? 0) refused (429) since the agent started\n")
                session.output.flush()
            }
            if session.format == .text, node != nil, let evicted = nodes.first?.evicted, !evicted.isEmpty {
                var byRule = Table("EVICTED BY", "RUNS", "BYTES")
                for rule in evicted { byRule.add(rule.reason.rawValue, String(rule.runs), ByteCount.text(rule.bytes)) }
                session.output.write("\n" + byRule.render())
                session.output.flush()
            }
        }
    }
}
