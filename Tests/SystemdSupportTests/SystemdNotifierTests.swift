import Foundation
import TestSupport
import SystemdSupport
import Testing

/// The environment is process-wide and tests run in parallel, so everything that depends on
/// `NOTIFY_SOCKET` or `WATCHDOG_*` happens in this one test.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SystemdNotifierTests {
    @Test func notifierAndWatchdogFollowTheEnvironment() throws {
        let directory = Scratch("systemd-test")
        let socket = try DatagramSocket(path: directory.file("notify"))
        let notifier = SystemdNotifier()
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }

        setenv("NOTIFY_SOCKET", socket.path, 1)
        #expect(notifier.ready())
        #expect(socket.receive() == "READY=1")
        #expect(notifier.watchdog())
        #expect(socket.receive() == "WATCHDOG=1")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
        #expect(notifier.status("x"))
        #expect(socket.receive() == "STATUS=x")
        #expect(notifier.status("a\nb\r\nREADY=1"))
        #expect(socket.receive() == "STATUS=a b READY=1")

        unsetenv("NOTIFY_SOCKET")
        #expect(!notifier.ready())
        #expect(!notifier.watchdog())
        #expect(!notifier.stopping())
        #expect(!notifier.status("x"))
        #expect(socket.receive() == nil)

        setenv("WATCHDOG_USEC", "2000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        #expect(SystemdNotifier.watchdogInterval == .seconds(2))
        setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
        #expect(SystemdNotifier.watchdogInterval == nil)
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        #expect(SystemdNotifier.watchdogInterval == nil)
    }
}

/// A bound `AF_UNIX` datagram socket standing in for systemd's notification socket.
final class DatagramSocket {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        try #require(path.utf8.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0, "bind \(path): errno \(errno)")
    }

    deinit { close(descriptor) }

    /// The next datagram without waiting, or nil if none is queued: `sd_notify` has sent before it returns.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
