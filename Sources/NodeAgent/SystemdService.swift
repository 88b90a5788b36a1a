import ServiceLifecycle
import SystemdSupport

/// Tells systemd how the process is doing: the watchdog ping while it runs (when the unit has
/// `WatchdogSec`), STOPPING=1 when shutdown begins. READY=1 is sent when the server listens.
struct SystemdService: Service {
    let notifier: SystemdNotifier

    func run() async throws {
        if let period = SystemdNotifier.watchdogInterval {
            // Ping at half the period, as sd_watchdog_enabled(3) advises.
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                notifier.watchdog()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period / 2) }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.stopping()
    }
}
