import ArgumentParser
import Foundation
import LogsAPITypes
import LogsCLI

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Add lines to a custom source: the arguments, or standard input line by line.")
    @Argument(help: "The source's name.") var source: String
    @Argument(help: "Lines to push (default: read standard input).") var lines: [String] = []
    @OptionGroup var tool: ToolOption
    @OptionGroup var global: GlobalOptions

    /// Within the gateway's limits of 1,000 lines and 1 MiB per request.
    static let batchLines = 1000
    static let batchBytes = 512 << 10

    func run() throws {
        try global.run(tool: tool) { session throws(CLIFailure) in
            let path = APIClient.toolPath(try session.requireTool()) + "/source/\(APIClient.escaped(source))/log"
            var batch: [Components.Schemas.PushedLine] = []
            var batchBytes = 0
            var pushed = 0
            func send() throws(CLIFailure) {
                guard !batch.isEmpty else { return }
                guard let body = try? JSONEncoder().encode(batch) else { throw .usage("cannot encode the lines as JSON") }
                pushed += try session.client.json("POST", path, body: Array(body), as: Components.Schemas.PushResponse.self).data.lines
                batch.removeAll()
                batchBytes = 0
            }
            var arguments = lines.makeIterator()
            while let line = lines.isEmpty ? readLine() : arguments.next() {
                if batch.count == Self.batchLines || batchBytes + line.utf8.count > Self.batchBytes { try send() }
                batch.append(Components.Schemas.PushedLine(message: line))
                batchBytes += line.utf8.count + 16
            }
            try send()
            if session.format == .json { return try session.printJSON(["lines": pushed]) }
            session.output.line(session.outputPalette.info("\(pushed) line\(pushed == 1 ? "" : "s") pushed to \(source)"))
            session.output.flush()
        }
    }
}
