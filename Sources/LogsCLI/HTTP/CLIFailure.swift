/// Why a command failed, and the exit status that says so to scripts: 1 not found or denied,
/// 3 the server or the connection failed, 64 bad usage (as swift-argument-parser's EX_USAGE).
package struct CLIFailure: Error, CustomStringConvertible {
    package var description: String
    package var exitCode: Int32

    package static func usage(_ text: String) -> CLIFailure { CLIFailure(description: text, exitCode: 64) }
    package static func connection(_ text: String) -> CLIFailure { CLIFailure(description: text, exitCode: 3) }

    /// An HTTP error answer: its envelope's error text, or the status when it has none.
    package static func answer(status: Int, errors: [String]) -> CLIFailure {
        let text = errors.isEmpty ? "the server answered HTTP \(status)" : errors.joined(separator: "; ")
        switch status {
        case 400: return CLIFailure(description: text, exitCode: 64)
        case 401, 403, 404: return CLIFailure(description: text, exitCode: 1)
        default: return CLIFailure(description: text, exitCode: 3)
        }
    }
}
