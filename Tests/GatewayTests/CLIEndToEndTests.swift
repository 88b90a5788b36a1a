import Foundation
import LogModel
import Testing
import TestSupport

/// The real `toolforge-logs` binary, over libcurl with client certificates, against real agents
/// and a gateway in `--auth mtls` mode.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CLIEndToEndTests {
    struct Answer {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the CLI as `identity` (a certificate from the harness's CA; nil: none) to its end.
    static func cli(_ gw: GatewayHarness, as identity: String?, _ arguments: [String], input: String? = nil) throws -> Answer {
        let process = try launch(gw, as: identity, arguments, output: gw.scratch.file("cli.out"), input: input)
        process.waitUntilExit()
        return Answer(status: process.terminationStatus, output: try String(contentsOfFile: gw.scratch.file("cli.out"), encoding: .utf8),
                      errors: try String(contentsOfFile: gw.scratch.file("cli.out.err"), encoding: .utf8))
    }

    static func launch(_ gw: GatewayHarness, as identity: String?, _ arguments: [String], output: String, input: String? = nil) throws -> Process {
        let certificates = try #require(gw.certificates)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.product("toolforge-logs"))
        var environment = ["HOME": gw.scratch.path, "PATH": "/usr/bin:/bin", "TOOLFORGE_LOGS_URL": gw.base,
                           "TOOLFORGE_LOGS_CA_FILE": certificates + "/ca.crt"]
        if let identity {
            environment["TOOLFORGE_LOGS_CERT"] = "\(certificates)/\(identity).crt"
            environment["TOOLFORGE_LOGS_KEY"] = "\(certificates)/\(identity).key"
        }
        process.environment = environment
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        _ = FileManager.default.createFile(atPath: output + ".err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".err"))
        if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        return process
    }

    @Test func everyCommandAgainstTheStack() async throws {
        let gw = try GatewayHarness(nodes: ["node-1", "node-2"], mutualTLS: true)
        let worker = try gw.writer(node: "node-1", pod: "worker-1")
        try worker.write("first line")
        try worker.write("an error", stream: "stderr")
        try worker.write("third line")
        _ = try await eventually("the job") {
            try Self.cli(gw, as: "demo", ["job", "worker-1"]).output.contains("third line") ? true : nil
        }

        // Text, piped: no colour, stderr marked, and the tool is the certificate's.
        let job = try Self.cli(gw, as: "demo", ["job", "worker-1"])
        #expect(job.status == 0)
        #expect(job.output == "[worker-1/job] first line\n[worker-1/job stderr] an error\n[worker-1/job] third line\n")
        #expect(try Self.cli(gw, as: "demo", ["job", "worker-1", "-n", "1", "-t"]).output.hasSuffix("Z [worker-1/job] third line\n"))
        #expect(try Self.cli(gw, as: "demo", ["job", "worker-1", "--stream", "stderr"]).output == "[worker-1/job stderr] an error\n")
        #expect(try Self.cli(gw, as: "alice", ["job", "worker-1", "--tool", "demo", "--grep", "third"]).output == "[worker-1/job] third line\n")

        // JSON: log items, one per line, parsed back.
        let json = try Self.cli(gw, as: "demo", ["job", "worker-1", "-o", "json"])
        let items = try json.output.split(separator: "\n").map { try JSONDecoder().decode(LogItem.self, from: Data($0.utf8)) }
        #expect(items.map(\.message) == ["first line", "an error", "third line"])
        #expect(items.allSatisfy { $0.node == "node-1" })
        // A cursor where a client resumes from: on the last entry of what the server wrote at
        // once (read newest first, the CLI prints that one first).
        #expect(items.map { $0.cursor != nil } == [true, false, false])

        // The webservice's replicas, and the activity: what happened to the pods.
        let web = try PodLogWriter(podsDirectory: gw.pods("node-2"), namespace: "tool-demo", pod: "demo-web-b", container: "webservice")
        try web.write("GET / 200")
        // The pod's labels say it is the webservice (the PodList the kubelet's API would give).
        try """
            {"items": [{"metadata": {"name": "demo-web-b", "namespace": "tool-demo", "uid": "\(web.uid)",
                                     "labels": {"app.kubernetes.io/component": "web"}}}]}
            """.replace(file: gw.scratch.file("pods-node-2.json"))
        _ = try await eventually("the webservice") {
            try Self.cli(gw, as: "demo", ["webservice"]).output == "[demo-web-b/webservice] GET / 200\n" ? true : nil
        }
        _ = try await eventually("the start in the activity") { try Self.cli(gw, as: "demo", ["activity"]).output.contains("started") ? true : nil }

        // A reader that goes away (`| head`) while the CLI still writes ends it quietly, status 0.
        let chatty = try gw.writer(node: "node-1", pod: "chatty")
        for i in 0..<3000 { try chatty.write("line \(i) " + String(repeating: "x", count: 100)) }
        _ = try await eventually("the chatty job") {
            try Self.cli(gw, as: "demo", ["job", "chatty", "-n", "1"]).output.contains("line 2999") ? true : nil
        }
        let pipeline = Process()
        pipeline.executableURL = URL(fileURLWithPath: "/bin/bash")
        pipeline.arguments = ["-c", "set -o pipefail; '\(ServiceProcess.product("toolforge-logs"))' job chatty -n 3000 | head -c 1 >/dev/null"]
        pipeline.environment = ["TOOLFORGE_LOGS_URL": gw.base, "TOOLFORGE_LOGS_CA_FILE": "\(gw.certificates!)/ca.crt",
                                "TOOLFORGE_LOGS_CERT": "\(gw.certificates!)/demo.crt", "TOOLFORGE_LOGS_KEY": "\(gw.certificates!)/demo.key"]
        let errors = Pipe()
        pipeline.standardError = errors
        pipeline.standardOutput = FileHandle.nullDevice
        try pipeline.run()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        pipeline.waitUntilExit()
        #expect(pipeline.terminationStatus == 0)
        #expect(said.isEmpty, "\(String(decoding: said, as: UTF8.self))")

        // The inventory and the runs.
        let list = try Self.cli(gw, as: "demo", ["list"])
        #expect(list.output.hasPrefix("KIND"))
        #expect(list.output.contains("worker-1"))
        let runs = try Self.cli(gw, as: "demo", ["runs", "worker-1", "-o", "json"])
        #expect(runs.output.contains("\"run\" : \"worker-1\""))
        #expect(runs.output.contains("\"total\" : 1"))
        let table = try Self.cli(gw, as: "demo", ["runs", "worker-1"])
        #expect(table.output.hasPrefix("RUN"))
        #expect(table.errors == "1 run kept\n", "\(table.errors)")
        #expect(try Self.cli(gw, as: "demo", ["runs", "worker-1", "--failed"]).errors.hasPrefix("0 failed runs kept"))
        let badCursor = try Self.cli(gw, as: "demo", ["runs", "worker-1", "--before", "nonsense"])
        #expect(badCursor.status == 64, "a parameter the server refused")
        #expect(badCursor.errors.contains("before: not a cursor"), "\(badCursor.errors)")

        // A custom source: pushed from standard input and from arguments, read back.
        let push = try Self.cli(gw, as: "demo", ["push", "deploys"], input: "deployed v1\ndeployed v2\n")
        #expect(push.status == 0)
        #expect(push.output == "2 lines pushed to deploys\n")
        #expect(try Self.cli(gw, as: "demo", ["push", "deploys", "rolled back"]).status == 0)
        // Pushed lines come from no pod: no `[pod/container]` before them.
        let source = try Self.cli(gw, as: "demo", ["source", "deploys"])
        #expect(source.output == "deployed v1\ndeployed v2\nrolled back\n")

        // Operators see usage; members do not.
        let nodes = try Self.cli(gw, as: "ops", ["admin", "nodes"])
        #expect(nodes.status == 0)
        #expect(nodes.output.contains("node-1") && nodes.output.contains("node-2"))
        let node = try Self.cli(gw, as: "ops", ["admin", "nodes", "node-1"]).output
        #expect(node.contains("TOOL"))
        // Whose reads hold the node's read threads: none now, and none refused.
        #expect(node.contains("no reads running; 0 refused (429) since the agent started"), "\(node)")
        #expect(try Self.cli(gw, as: "alice", ["admin", "nodes"]).status == 1)

        // Purge a run, then it is gone.
        let purge = try Self.cli(gw, as: "demo", ["purge", "job", "worker-1", "--run", "worker-1"])
        #expect(purge.status == 0, "\(purge.errors)")
        #expect(purge.output == "purged the logs of run worker-1 of job worker-1\n")
        let gone = try Self.cli(gw, as: "demo", ["job", "worker-1"])
        #expect(gone.status == 1)
        #expect(gone.errors.hasPrefix("Error: "))
    }

    /// The help says what each command takes, and nothing it does not.
    /// Past its request rate the gateway answers 429 with `Retry-After`; the CLI waits as it
    /// says, says so once, and gets its answer.
    @Test func aBusyAnswerIsWaitedForAsRetryAfterSays() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], gatewayArguments: ["--rate-limit", "1"], mutualTLS: true)
        let log = try gw.writer(node: "node-1", pod: "worker-1")
        try log.write("the line")
        _ = try await eventually("the job") {
            try Self.cli(gw, as: "demo", ["job", "worker-1"]).output.contains("the line") ? true : nil
        }
        // A burst of 5, then one a second: some of these wait.
        var waited = 0
        for _ in 0..<8 {
            let answer = try Self.cli(gw, as: "demo", ["job", "worker-1"])
            #expect(answer.status == 0, "\(answer.errors)")
            #expect(answer.output == "[worker-1/job] the line\n")
            if answer.errors.contains("too many requests from tool:demo: at most 1") && answer.errors.contains("; trying again in 1 s") {
                waited += 1
            }
        }
        #expect(waited > 0)
    }

    @Test func helpTextsFitTheirCommands() throws {
        func run(_ arguments: [String]) throws -> (status: Int32, text: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServiceProcess.product("toolforge-logs"))
            process.arguments = arguments
            process.environment = ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let version = try run(["--version"])
        #expect(version.status == 0 && version.text == "0.2.0\n")
        let activity = try run(["activity", "--help"]).text
        #expect(activity.contains("USAGE: toolforge-logs activity [<options>]"))
        #expect(activity.contains("--since") && activity.contains("--tool"))
        for flag in ["--run", "--stream", "--container"] { #expect(!activity.contains(flag), "activity offers \(flag)") }
        #expect(try run(["webservice", "--help"]).text.contains("USAGE: toolforge-logs webservice [<options>]"))
        #expect(try run(["job", "--help"]).text.contains("--run"))
        let nodes = try run(["admin", "nodes", "--help"]).text
        #expect(!nodes.contains("--tool") && nodes.contains("--url"))
        #expect(nodes.contains("RATIO, HOLDS per byte USED"), "the columns are explained")
        // Every place the address comes from, the CLI's own variable first.
        let top = try run(["--help"]).text.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(top.contains("The API address comes from --url, TOOLFORGE_LOGS_URL, TOOL_TOOLFORGE_API_URL or api_gateway.url"), "\(top)")
        for command in [["list"], ["runs", "x"], ["push", "x"], ["admin", "nodes"]] {
            #expect(!(try run(command + ["--help"]).text.contains("NDJSON")), "\(command)")
        }
        let negative = try run(["job", "x", "-n", "-1"])
        #expect(negative.status == 64 && negative.text.contains("--lines: must be from 0 to 100000"))
        let nowhere = try run(["job", "x"])
        #expect(nowhere.status == 64 && nowhere.text.contains("TOOLFORGE_LOGS_URL"))
    }

    /// Denials and bad usage: the envelope's error on standard error, nothing on standard output,
    /// and the exit status that says which.
    @Test func denialsAndUsageErrorsExitWithTheirStatus() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], mutualTLS: true)
        let log = try gw.writer(node: "node-1", pod: "secret", container: "job")
        try log.write("secret of demo")
        _ = try await eventually("the job") { try Self.cli(gw, as: "demo", ["job", "secret"]).status == 0 ? true : nil }

        let cases: [(String?, [String], Int32, String)] = [
            ("other", ["job", "secret", "--tool", "demo"], 1, "Error: tool certificates may read only their own tool's logs, not demo's"),
            ("bob", ["job", "secret", "--tool", "demo"], 1, "Error: bob is not a member of demo"),
            (nil, ["job", "secret", "--tool", "demo"], 1, "Error: no identity"),
            ("alice", ["job", "secret"], 64, "Error: which tool? Pass --tool NAME"),
            ("demo", ["job", "secret", "--since", "yesterday"], 64, "Error: --since yesterday: expected a duration ago (90s, 10m, 2h, 3d, 1h30m) or an RFC 3339 time"),
            // Bare numbers are epoch nanoseconds to the API, never what a person meant.
            ("demo", ["job", "secret", "--since", "5"], 64, "Error: --since 5: a bare number is no time; give a duration ago"),
            ("demo", ["job", "secret", "--until", "1700000000"], 64, "Error: --until 1700000000: a bare number is no time"),
            ("demo", ["job", "secret", "--since", "-5m"], 64, "Error: --since -5m: a duration counts back from now, without a sign"),
            ("demo", ["job", "secret", "--since", "0s"], 64, "Error: --since 0s is now: nothing is there yet (add --follow"),
            ("demo", ["job", "secret", "--stream", "both"], 64, "--stream: all, stdout or stderr, not both"),
            ("demo", ["job", "nothing-here"], 1, "Error: Job 'nothing-here' does not have any logs available\n"),
            // Typos get the name meant, as git and kubectl answer them.
            ("demo", ["job", "secrte"], 1, "Error: Job 'secrte' does not have any logs available (did you mean 'secret'?)"),
            ("demo", ["jbo", "secret"], 64, "'jbo' is not a command. Did you mean 'job'?"),
            ("demo", ["zzz"], 64, "'zzz' is not a command; the commands are job, runs,"),
        ]
        for (identity, arguments, status, message) in cases {
            let answer = try Self.cli(gw, as: identity, arguments)
            #expect(answer.status == status, "\(arguments): \(answer.errors)")
            #expect(answer.errors.contains(message), "\(arguments): \(answer.errors)")
            #expect(answer.output.isEmpty)
        }
        gw.gateway.kill()
        let down = try Self.cli(gw, as: "demo", ["job", "secret"])
        #expect(down.status == 3)
        #expect(down.errors.contains("Error: \(gw.base)"))
    }

    /// `--follow` through a gateway killed with SIGKILL, and stopped with SIGTERM, and started
    /// again each time: every line once.
    @Test func followSurvivesAGatewayRestart() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], mutualTLS: true)
        let log = try gw.writer(node: "node-1", pod: "worker-1")
        try log.write("line 0")
        _ = try await eventually("the job") { try Self.cli(gw, as: "demo", ["job", "worker-1"]).status == 0 ? true : nil }
        let output = gw.scratch.file("follow.out")
        let follower = try Self.launch(gw, as: "demo", ["job", "worker-1", "-f", "-o", "json"], output: output)
        defer { follower.terminate() }
        // Whole lines only: the follower may be writing the last one while it is read.
        func seen() throws -> [String] {
            let text = try String(contentsOfFile: output, encoding: .utf8)
            return try text.split(separator: "\n").dropLast(text.hasSuffix("\n") ? 0 : 1)
                .compactMap { try JSONDecoder().decode(LogItem.self, from: Data($0.utf8)).message }
        }
        for i in 1...20 { try log.write("line \(i)") }
        _ = try await eventually("the first lines") { try seen().count == 21 ? true : nil }
        gw.gateway.kill()
        for i in 21...40 { try log.write("line \(i)") }
        try await waitUntil("the follower to find the gateway gone") {
            try String(contentsOfFile: output + ".err", encoding: .utf8).contains("reconnecting until it answers")
        }
        try gw.startGateway()
        for i in 41...60 { try log.write("line \(i)") }
        _ = try await eventually("every line") { try seen().count >= 61 ? true : nil }
        // A graceful stop (SIGTERM) cuts the follow too; it is not taken for the end.
        gw.gateway.kill(SIGTERM)
        for i in 61...80 { try log.write("line \(i)") }
        try gw.startGateway()
        _ = try await eventually("the lines after the stop") { try seen().count >= 81 ? true : nil }
        // A last line: whatever came twice would come before it.
        try log.write("line 81")
        _ = try await eventually("the last line") { try seen().last == "line 81" ? true : nil }
        #expect(try seen() == (0...81).map { "line \($0)" })
        #expect(follower.isRunning)
        // SIGTERM ends it, even though this test process blocks that signal (its in-process
        // servers handle their own) and a child inherits the mask.
        follower.terminate()
        try await waitUntil("the follower to end on SIGTERM", timeout: .seconds(5)) { !follower.isRunning }
    }

    /// On a terminal, a line's escape sequences are shown, not obeyed; `--raw` passes them.
    @Test func escapeSequencesAreNeutralisedOnATerminal() async throws {
        let gw = try GatewayHarness(nodes: ["node-1"], mutualTLS: true)
        let log = try gw.writer(node: "node-1", pod: "hostile")
        try log.write("copy \u{1B}]52;c;ZXZpbA==\u{07} title \u{1B}[2J done")
        _ = try await eventually("the job") { try Self.cli(gw, as: "demo", ["job", "hostile"]).status == 0 ? true : nil }
        let certificates = try #require(gw.certificates)
        func onTerminal(_ extra: String) throws -> String {
            // script(1) gives the CLI a pseudo-terminal as its standard output.
            let command = "TOOLFORGE_LOGS_URL=\(gw.base) TOOLFORGE_LOGS_CA_FILE=\(certificates)/ca.crt TOOLFORGE_LOGS_CERT=\(certificates)/demo.crt "
                + "TOOLFORGE_LOGS_KEY=\(certificates)/demo.key NO_COLOR=1 \(ServiceProcess.product("toolforge-logs")) job hostile \(extra)"
            let script = Process()
            script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            script.arguments = ["-qec", command, "/dev/null"]
            let pipe = Pipe()
            script.standardOutput = pipe
            script.standardInput = FileHandle.nullDevice
            try script.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            script.waitUntilExit()
            return text
        }
        let shown = try onTerminal("")
        #expect(shown.contains(#"copy \e]52;c;ZXZpbA==\x07 title \e[2J done"#), "\(shown)")
        #expect(!shown.contains("\u{1B}]52"))
        #expect(try onTerminal("--raw").contains("\u{1B}]52;c;ZXZpbA==\u{07}"))
        // A read that finds nothing says so to a person at a terminal, as journalctl does, and
        // says nothing into a pipe.
        #expect(try onTerminal("--grep nothing-like-this").contains("-- No entries --"))
        let piped = try Self.cli(gw, as: "demo", ["job", "hostile", "--grep", "nothing-like-this"])
        #expect(piped.status == 0 && piped.output.isEmpty && piped.errors.isEmpty)
    }
}
