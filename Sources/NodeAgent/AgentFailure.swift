import Logging
import Metrics

/// Failures the agent lives through that an operator must still see: each is logged with its
/// cause and counted in `/metrics` as `logs_agent_errors{operation}`. The operations are a fixed
/// set, so the series stay bounded.
enum AgentFailure: String, CaseIterable, Sendable {
    /// The last fdatasync of live rings at stop: their newest lines may not be on disk. Logged
    /// only, in effect: the process ends before another scrape.
    case syncAtStop = "sync-at-stop"
    /// A pod's new labels or state could not be written into its ring's metadata.
    case metadataUpdate = "metadata-update"
    /// The journal's read position could not be saved: a restart reads again from an older one.
    case journalPosition = "journal-position"
    /// An evicted run's container could not be recorded as retired: an agent restarted while its
    /// pod is still on the node reads the run in again.
    case retiredContainers = "retired-containers"
    /// A line of the Kubernetes pod watch that could not be read: the watch ends, and the pods
    /// are listed again.
    case podWatchEvent = "pod-watch-event"
    /// A tool's activity (pods seen, runs ended or purged) could not be written to its activity
    /// ring: what happened happened, the line saying so is missing.
    case activityRecord = "activity-record"

    /// Every operation's series from the start, at 0: an alert on `increase()` sees the first
    /// failure (a series that appears at 1 has not increased).
    static func registerAll() {
        for failure in allCases { _ = failure.counter }
    }

    fileprivate var counter: Counter { Counter(label: "logs_agent_errors", dimensions: [("operation", rawValue)]) }

    func record(_ error: any Error, logger: Logger, _ metadata: Logger.Metadata = [:]) {
        counter.increment()
        logger.error("\(rawValue) failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
    }
}

/// A failure tried again and again until it heals (a pod event after another, a read position
/// saved every few minutes): logged when it starts, counted every time.
struct RepeatingFailure {
    let failure: AgentFailure
    private var failing = false

    init(_ failure: AgentFailure) { self.failure = failure }

    mutating func failed(_ error: any Error, logger: Logger, _ metadata: Logger.Metadata = [:]) {
        if failing {
            failure.counter.increment()
        } else {
            failure.record(error, logger: logger, metadata)
        }
        failing = true
    }

    mutating func healed() { failing = false }
}
