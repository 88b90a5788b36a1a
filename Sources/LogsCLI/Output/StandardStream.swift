import Foundation

/// Buffered writes to standard output or error. A reader that went away (`| head`) ends the
/// program quietly with status 0, as `cat` would, instead of an error or a crash. Used from the
/// one thread the CLI runs on (libcurl calls back on the thread that performs).
package final class StandardStream: @unchecked Sendable {
    private let fileDescriptor: Int32
    private var buffer: [UInt8] = []
    package let isTerminal: Bool

    package static let standardOutput = StandardStream(fileDescriptor: STDOUT_FILENO)
    package static let standardError = StandardStream(fileDescriptor: STDERR_FILENO)

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        isTerminal = isatty(fileDescriptor) == 1
        buffer.reserveCapacity(1 << 16)
    }

    package func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    package func write(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    package func line(_ text: String) { write(text + "\n") }

    package func flush() {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { Foundation.write(fileDescriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                break
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
