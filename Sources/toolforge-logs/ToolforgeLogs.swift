import ArgumentParser
import Foundation
import LogModel

/// `toolforge-logs`, run by the platform as `toolforge logs …`.
@main
struct ToolforgeLogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toolforge-logs",
        abstract: "Read and follow the logs of a tool's jobs, webservice and builds.",
        discussion: """
            Exit status: 0 ok, 1 not found or not allowed, 3 server or connection failure, 64 bad usage.
            The API address comes from --url, TOOLFORGE_LOGS_URL, TOOL_TOOLFORGE_API_URL or
            api_gateway.url in /etc/toolforge/common.yaml, ~/.toolforge.yaml or
            ~/.config/toolforge.yaml (plus /logs).
            """,
        version: "0.2.0",
        subcommands: [JobCommand.self, RunsCommand.self, WebserviceCommand.self, BuildCommand.self, ActivityCommand.self,
                      SourceCommand.self, ListCommand.self, PushCommand.self, PurgeCommand.self, AdminCommand.self])

    static func main() {
        // A closed pipe (`| head`) is an EPIPE that ends the output quietly, not a signal.
        signal(SIGPIPE, SIG_IGN)
        // Ctrl-C and SIGTERM end a follow, even when the parent started us with them blocked
        // (a mask is inherited: a Swift server that handles its own signals blocks them).
        var stopping = sigset_t()
        sigemptyset(&stopping)
        sigaddset(&stopping, SIGINT)
        sigaddset(&stopping, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &stopping, nil)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard let hint = commandHint(Array(CommandLine.arguments.dropFirst())), exitCode(for: error) != .success else {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data("\(fullMessage(for: error))\n\(hint)\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }

    /// For `toolforge-logs jbo worker`, whose parse error names only the words it did not
    /// expect: the command meant, as git says it, or the commands there are.
    static func commandHint(_ arguments: [String]) -> String? {
        guard let word = arguments.first, !word.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(word) else { return nil }
        if let meant = NearestName.nearest(to: word, among: names) { return "'\(word)' is not a command. Did you mean '\(meant)'?" }
        return "'\(word)' is not a command; the commands are \(names.joined(separator: ", "))."
    }
}
