#if canImport(Glibc)
import Glibc
#endif

/// Directory change notifications from the kernel, so that the agent sleeps until a log file
/// grows or appears instead of polling.
final class Inotify {
    let descriptor: Int32
    private var paths: [Int32: String] = [:]
    private var watches: [String: Int32] = [:]
    /// Where events are read into: the ingest loop looks between turns, too often to allocate it.
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    struct Event {
        /// The watched directory (empty for a queue overflow, `IN_Q_OVERFLOW`).
        var directory: String
        /// The entry inside it the event is about (empty for the directory itself).
        var name: String
        var mask: UInt32
    }

    static let directoryEvents = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_DELETE_SELF)

    init() throws {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw AgentError.system("inotify_init1", errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Watches a directory (again, harmlessly, if already watched); false if it is gone.
    @discardableResult
    func watch(_ directory: String) -> Bool {
        let wd = inotify_add_watch(descriptor, directory, Inotify.directoryEvents)
        guard wd >= 0 else { return false }
        paths[wd] = directory
        watches[directory] = wd
        return true
    }

    var watchCount: Int { watches.count }

    /// Waits up to `timeout` milliseconds for events (or for `wake` to become readable), then
    /// returns whatever events are queued.
    func wait(timeout: Int32, wake: Int32) -> [Event] {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, timeout)
        return pending()
    }

    /// The events queued now, without waiting.
    func pending() -> [Event] {
        var events: [Event] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var at = 0
                while at + MemoryLayout<inotify_event>.size <= count {
                    let wd = raw.loadUnaligned(fromByteOffset: at, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                    let nameStart = at + MemoryLayout<inotify_event>.size
                    let nameBytes = raw[nameStart..<(nameStart + length)].prefix { $0 != 0 }
                    if let directory = paths[wd] {
                        events.append(Event(directory: directory, name: String(decoding: nameBytes, as: UTF8.self), mask: mask))
                    } else if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        // Events were lost (the queue holds `max_queued_events`): said, not dropped.
                        events.append(Event(directory: "", name: "", mask: mask))
                    }
                    if mask & UInt32(IN_IGNORED) != 0, let directory = paths.removeValue(forKey: wd) {
                        watches[directory] = nil
                    }
                    at = nameStart + length
                }
            }
        }
        return events
    }
}

enum AgentError: Error, CustomStringConvertible {
    case system(String, Int32)

    var description: String {
        switch self {
        case let .system(call, code): "\(call): \(String(cString: strerror(code)))"
        }
    }
}
