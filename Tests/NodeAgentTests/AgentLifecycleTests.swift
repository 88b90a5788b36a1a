import AgentWire
import Foundation
import Testing
import TestSupport

/// The agent under systemd: READY=1 once serving, WATCHDOG=1 at half the watchdog period,
/// STOPPING=1 and a clean exit on SIGTERM. A Unix datagram socket plays systemd.
@Suite(.timeLimit(.minutes(3))) struct AgentLifecycleTests {
    @Test func talksToSystemdAndStopsCleanlyOnSigterm() async throws {
        let scratch = Scratch("notify")
        let socketPath = scratch.file("notify.sock")
        let socket = try DatagramSocket(path: socketPath)
        try FileManager.default.createDirectory(atPath: scratch.file("pods"), withIntermediateDirectories: true)
        let agent = ServiceProcess(
            executable: ServiceProcess.product("logs-agent"),
            arguments: ["--node", "n", "--pods-dir", scratch.file("pods"), "--data-dir", scratch.file("data"),
                        "--listen", "127.0.0.1:0", "--insecure-no-auth"],
            environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"],
            logPath: scratch.file("agent.log"))
        try agent.start()
        var seen: [String] = []
        while seen.count < 10, !(seen.contains("READY=1") && seen.filter({ $0 == "WATCHDOG=1" }).count >= 3) {
            seen.append(try socket.receive())
        }
        #expect(seen.contains("READY=1"))
        #expect(seen.filter { $0 == "WATCHDOG=1" }.count >= 3)
        #expect(Set(seen).isSubset(of: ["READY=1", "WATCHDOG=1"]))
        agent.kill(SIGTERM)
        var messages: [String] = []
        while let message = try? socket.receive(), messages.count < 10 {
            messages.append(message)
            if message == "STOPPING=1" { break }
        }
        #expect(messages.last == "STOPPING=1")
        #expect(agent.exitStatus == 0)
    }
}

/// A bound AF_UNIX datagram socket that receives with a timeout.
final class DatagramSocket {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

/// Flags the agent cannot serve with: it refuses to start, saying why, with the usage status.
@Suite(.timeLimit(.minutes(3))) struct AgentFlagTests {
    @Test func aPodsDirectoryThatIsNotThereIsRefused() throws {
        let scratch = Scratch("flags")
        try "not a directory".replace(file: scratch.file("file"))
        for pods in [scratch.file("missing"), scratch.file("file")] {
            let (status, said) = try ServiceProcess.runToExit(ServiceProcess.product("logs-agent"), [
                "--node", "n", "--pods-dir", pods, "--data-dir", scratch.file("data"),
                "--listen", "127.0.0.1:0", "--insecure-no-auth",
            ])
            #expect(status == 64)
            #expect(said.contains("Error: --pods-dir: no directory at \(pods)"), "\(said)")
        }
    }

    @Test func readSharingFlagsAreChecked() throws {
        let scratch = Scratch("flags")
        for (flag, value, message) in [("--read-threads", "0", "--read-threads: expected a whole number from 1 to 256, not 0"),
                                       ("--reads-per-tool", "many", "--reads-per-tool: expected a whole number from 1 to 10000, not many"),
                                       ("--read-wait", "soon", "--read-wait: expected a duration such as 15s, 10m, 2h or 14d, not soon")] {
            let (status, said) = try ServiceProcess.runToExit(ServiceProcess.product("logs-agent"), [
                "--node", "n", "--pods-dir", scratch.path, "--data-dir", scratch.file("data"),
                "--listen", "127.0.0.1:0", "--insecure-no-auth", flag, value,
            ])
            #expect(status == 64, "\(flag)")
            #expect(said.contains("Error: \(message)"), "\(said)")
        }
    }

    @Test func anUnusableTokenFileIsRefused() throws {
        let scratch = Scratch("flags")
        try "  \n".replace(file: scratch.file("blank"))
        for (file, message) in [(scratch.file("blank"), "is empty"), (scratch.file("missing"), "there is no such file")] {
            let (status, said) = try ServiceProcess.runToExit(ServiceProcess.product("logs-agent"), [
                "--node", "n", "--pods-dir", scratch.file("pods"), "--data-dir", scratch.file("data"),
                "--listen", "127.0.0.1:0", "--token-file", file,
            ])
            #expect(status == 64)
            #expect(said.contains("Error: --token-file: \(file)") && said.contains(message), "\(said)")
        }
    }

    @Test func aRingFormatItCannotWriteIsRefused() throws {
        let scratch = Scratch("flags")
        for format in ["0", "3"] {
            let (status, said) = try ServiceProcess.runToExit(ServiceProcess.product("logs-agent"), [
                "--node", "n", "--pods-dir", scratch.file("pods"), "--data-dir", scratch.file("data"),
                "--listen", "127.0.0.1:0", "--insecure-no-auth", "--ring-format", format,
            ])
            #expect(status == 64)
            #expect(said.contains("Error: --ring-format: expected one of 1, 2, not \(format)"), "\(said)")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("data")), "nothing was created")
        }
    }
}

/// Two descriptors per followed container: the open-file limit bounds a node's containers.
@Suite(.timeLimit(.minutes(3))) struct AgentOpenFileTests {
    @Test func raisesItsSoftLimitToTheHardOne() async throws {
        let agent = try AgentHarness(launcher: ["/usr/bin/prlimit", "--nofile=64:4096", "--"])
        let limits = try String(contentsOfFile: "/proc/\(agent.process.pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2) == ["4096", "4096"])
        agent.process.kill(SIGTERM)
    }

    @Test func healthSaysSoNearTheLimit() async throws {
        let agent = try AgentHarness(launcher: ["/usr/bin/prlimit", "--nofile=200:200", "--"])
        #expect(try await agent.get("/healthz").text.contains("file descriptors") == false)
        for pod in 0..<85 { try agent.writer(pod: "p\(pod)").write("line") }
        let health = try await eventually("the warning") {
            let text = try await agent.get("/healthz").text
            return text.contains("file descriptors are open") ? text : nil
        }
        #expect(health.contains("of 200 file descriptors are open"))
        agent.process.kill(SIGTERM)
    }
}

/// The agent's `--journal-dir`: journal entries reach rings served by the API like any other.
@Suite(.timeLimit(.minutes(3))) struct AgentJournalTests {
    @Test func journalEntriesAreServedThroughTheAgent() async throws {
        let testbed = try JournalTestbed()
        try testbed.write(JournalLine.mixed(0..<8), file: "first")
        let agent = try AgentHarness(["--journal-dir", testbed.journalDirectory])
        let rings = try await eventually("four journal rings") {
            let rings = try await agent.inventory().rings.filter { $0.tool == "alpha" || $0.tool == "beta" }
            return rings.count == 4 ? rings : nil
        }
        let web = try #require(rings.first { $0.tool == "alpha" && $0.name == "web" })
        try await waitUntil("alpha's web lines") { try await agent.messages(web).count == 2 }
        #expect(try await agent.messages(web) == ["alpha web line 0", "alpha web line 4"])
        #expect(try await agent.items(web).first?.stream == "stderr")  // PRIORITY 3
    }

    /// A host without Kubernetes (the agent under systemd for its journal) has no pods directory.
    @Test func aJournalOnlyAgentNeedsNoPodsDirectory() async throws {
        let testbed = try JournalTestbed()
        try testbed.write(JournalLine.mixed(0..<8), file: "first")
        let scratch = Scratch("journal-only")
        let agent = ServiceProcess(
            executable: ServiceProcess.product("logs-agent"),
            arguments: ["--node", "n", "--pods-dir", scratch.file("no-pods"), "--data-dir", scratch.file("data"),
                        "--listen", "127.0.0.1:0", "--insecure-no-auth", "--journal-dir", testbed.journalDirectory],
            logPath: scratch.file("agent.log"))
        try agent.start()
        defer { agent.kill() }
        try await waitUntil("the journal's rings") {
            try await TestHTTP.request("http://127.0.0.1:\(agent.port)" + AgentRoutes.rings).json(AgentInventory.self).rings.count >= 4
        }
        #expect(try String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8).contains("ingesting the journal only"))
    }

    /// A read position that cannot be saved does not stop ingest; it is logged and counted.
    @Test func aReadPositionThatCannotBeSavedIsSaidAndIngestGoesOn() async throws {
        let testbed = try JournalTestbed()
        // The position is saved when a run finishes (quiet for a second here), and every 5 minutes.
        let agent = try AgentHarness(["--journal-dir", testbed.journalDirectory, "--journal-idle-finish", "1s"])
        // The position is saved through a rename from this name: a directory there fails every save.
        try FileManager.default.createDirectory(atPath: agent.data + "/journal.position.new", withIntermediateDirectories: true)
        try testbed.write(JournalLine.mixed(0..<8), file: "first")
        let web = try await eventually("alpha's web ring") {
            try await agent.inventory().rings.first { $0.tool == "alpha" && $0.name == "web" }
        }
        try await waitUntil("alpha's web lines") { try await agent.messages(web).count == 2 }
        try await waitUntil("the failure counted") {
            let text = try await agent.get("/metrics", headers: [:]).text
            let line = text.split(separator: "\n").first { $0.hasPrefix("logs_agent_errors{operation=\"journal-position\"}") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0 >= 1
        }
        #expect(!FileManager.default.fileExists(atPath: agent.data + "/journal.position"))
        #expect(try String(contentsOfFile: agent.scratch.file("agent.log"), encoding: .utf8).contains("journal-position failed"))
    }
}
