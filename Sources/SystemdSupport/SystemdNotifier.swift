import CSystemd

/// Reports the service's state to systemd over `$NOTIFY_SOCKET` (`Type=notify`, `WatchdogSec=`).
///
/// Outside systemd there is no socket and every send is a no-op that returns `false`, so callers
/// need no separate code path for running under a terminal or a test.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Startup is complete: for `Type=notify`, systemd holds back units ordered after this one until then.
    @discardableResult
    public func ready() -> Bool { send("READY=1") }

    /// Shutdown has begun, so that systemd shows the unit as deactivating rather than running.
    @discardableResult
    public func stopping() -> Bool { send("STOPPING=1") }

    /// Keeps the watchdog from restarting the service; see ``watchdogInterval``.
    @discardableResult
    public func watchdog() -> Bool { send("WATCHDOG=1") }

    /// A one-line status that `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool {
        // Assignments are newline-separated: a line break in the text would start another one.
        send("STATUS=" + String(text.map { $0.isNewline ? " " : $0 }))
    }

    /// The watchdog period systemd enforces on this process, or `nil` when there is none.
    ///
    /// Ping ``watchdog()`` at half this period, as systemd recommends, so that a late wakeup
    /// does not get the service killed.
    public static var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        // Also false when `WATCHDOG_PID` names another process: the setting was meant for a parent.
        guard sd_watchdog_enabled(0, &usec) > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// True only if a notification socket took the datagram; a failure to send is not worth
    /// stopping the service over, so it is not an error.
    private func send(_ state: String) -> Bool {
        // Keep `$NOTIFY_SOCKET` (unset_environment 0): the service notifies more than once.
        sd_notify(0, state) > 0
    }
}
