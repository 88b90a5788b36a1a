import Foundation

/// Whether and how to colour one output stream: `--color auto` colours a terminal only, and
/// `NO_COLOR` (https://no-color.org) turns colour off unless `--color always` asks for it.
/// Standard output and error decide apart (Rainbow's single switch looks at standard output
/// only, which is why the few SGR codes are written here).
public struct Palette: Sendable {
    package let enabled: Bool

    public enum Choice: String, CaseIterable, Sendable { case auto, always, never }

    package init(_ choice: Choice, fileDescriptor: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) {
        switch choice {
        case .always: enabled = true
        case .never: enabled = false
        case .auto: enabled = isatty(fileDescriptor) == 1 && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        }
    }

    package func info(_ text: String) -> String { styled(text, 34) }
    package func warning(_ text: String) -> String { styled(text, 33) }
    package func error(_ text: String) -> String { styled(text, 31) }
    package func dim(_ text: String) -> String { styled(text, 2) }

    private func styled(_ text: String, _ code: Int) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
