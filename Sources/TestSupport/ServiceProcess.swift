import Foundation

/// Runs one of our executables as a real process, waits until it says it is ready, and kills it.
public final class ServiceProcess: @unchecked Sendable {
    public let executable: String
    public let arguments: [String]
    public let environment: [String: String]
    private var process: Process?
    private var output: Pipe?
    public private(set) var port = 0
    public let logPath: String
    public var pid: Int32 { process?.processIdentifier ?? 0 }

    public init(executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = logPath
    }

    /// The path of a product built next to the running test bundle.
    public static func product(_ name: String) -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [here, here.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/" + name
    }

    /// Runs `executable` to its end: its exit status and what it wrote to standard error (a
    /// process that must refuse to start, for one).
    public static func runToExit(_ executable: String, _ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, said)
    }

    /// Starts the process and waits (up to `timeout`) for its `ready on HOST:PORT` line.
    public func start(timeout: Duration = .seconds(30)) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Never pass on systemd's variables by accident: a test in this process may have set them.
        let inherited = ProcessInfo.processInfo.environment.filter { !["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].contains($0.key) }
        process.environment = inherited.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.standardError = log
        try process.run()
        self.process = process
        output = pipe
        let deadline = ContinuousClock.now + timeout
        var seen = ""
        while ContinuousClock.now < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if let range = seen.range(of: #"ready on \S+:(\d+)"#, options: .regularExpression) {
                let text = String(seen[range])
                port = Int(text.split(separator: ":").last ?? "") ?? 0
                // Keep draining its standard output so that it never blocks on a full pipe.
                pipe.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
                return
            }
        }
        process.terminate()
        throw ServiceProcessError.notReady(executable: executable, output: seen)
    }

    public func kill(_ signal: Int32 = SIGKILL) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        output?.fileHandleForReading.readabilityHandler = nil
    }

    public var exitStatus: Int32? { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } }

    deinit { kill() }
}

public enum ServiceProcessError: Error, CustomStringConvertible {
    case notReady(executable: String, output: String)

    public var description: String {
        switch self {
        case let .notReady(executable, output): "\(executable) did not get ready; it said: \(output)"
        }
    }
}

/// A fresh temporary directory, removed at deinit: the tests' one way to have files of their own.
public final class Scratch: @unchecked Sendable {
    public let path: String

    public init(_ prefix: String = "toolforge-logs-test") {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        // A test cannot go on without it: say why at once.
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
