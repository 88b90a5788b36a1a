import Foundation
import LogModel
import Logging
import RingStore
import Synchronization

/// What the ingest loop needs to know.
public struct IngestConfiguration: Sendable {
    public var podsDirectory: String
    public var node: String
    public var capacities: RingCapacities
    public var limits: IngestLimits
    /// A PodList file for pod metadata (re-read when it changes); nil: paths only.
    public var podsJSON: String?
    /// The safety net under inotify: a full look at every file this often.
    public var rescanInterval: Duration

    public init(podsDirectory: String, node: String, capacities: RingCapacities, limits: IngestLimits = IngestLimits(),
                podsJSON: String? = nil, rescanInterval: Duration = .seconds(5)) {
        self.podsDirectory = podsDirectory
        self.node = node
        self.capacities = capacities
        self.limits = limits
        self.podsJSON = podsJSON
        self.rescanInterval = rescanInterval
    }
}

/// Counters of the ingest loop, read by the stats and metrics endpoints.
public struct IngestStats: Sendable, Equatable {
    public var bytes: UInt64 = 0
    public var containers = 0
    public var watches = 0
    public var podListError: String?
}

/// The ingest loop: finds the kubelet's container logs under the pods directory, follows each
/// into its ring, round-robin with a byte quota per turn (containers over their rate limit
/// last) so that a flood in one container cannot starve the others, and sleeps on inotify when
/// there is nothing to read. It runs on a thread of its own: its work is blocking file I/O.
final class Ingestor: @unchecked Sendable {
    // Shared with other threads: what is immutable or thread-safe itself, `stats` (read by the
    // API), and what `stop()` uses (`stopping`, `done`, the wake pipe's write end).
    let configuration: IngestConfiguration
    let store: RingDirectory
    let toolRings: ToolRings
    let inventory: Inventory
    let health: AgentHealth
    let stats = Mutex(IngestStats())
    private let stopping = Mutex(false)
    private let done = DispatchSemaphore(value: 0)
    private let wakePipe: (read: Int32, write: Int32)
    private let logger: Logger

    // Everything below is touched only by the ingest thread, or is thread-safe itself
    // (`retired`, `podList`).
    private let classifier: RingClassifier
    private let podList: (any PodSource)?
    private var inotify: Inotify?
    private var logs: [ContainerKey: ContainerLog] = [:]
    /// The keys in `logs` by container directory, where inotify says something changed.
    private var keysByDirectory: [String: Set<ContainerKey>] = [:]
    /// Whether a run may have ended since the last look (a scan, new pod states, a log read to
    /// its end): looking costs a `stat` per idle container, too much for every wake-up.
    private var runEndsToCheck = true
    private var dirty: Set<ContainerKey> = []
    private var metadataUpdates = RepeatingFailure(.metadataUpdate)
    /// Container runs whose ring is finished (their keys' descriptions), by pod uid: never
    /// followed again, and forgotten with their pod's directory (a pod never comes back under
    /// the same uid). Kept for good, they grew with every run the node ever had.
    private var finished: [String: Set<String>] = [:]
    /// Whether `finished` was checked against a listing of the pods directory since the start:
    /// runs of pods that went while the agent was down are forgotten then.
    private var finishedPruned = false
    /// Container runs purged or evicted: never read in again, whatever their log files still hold.
    private let retired: RetiredContainers
    /// Every live container run's ring, by its key: filled from the data directory at the first
    /// scan (a restarted agent resumes them), then as rings are created; a ring leaves it when
    /// its run finishes. A search of all rings per new container made discovery quadratic:
    /// minutes for 10,000 containers. Only live rings are held: a finished ring's object is
    /// replaced when its run folds, and holding the old one kept its unlinked file open.
    private var ringsByContainer: [String: Ring]?
    /// Pod directories seen, by uid, so that a vanished one can be told as deleted.
    private var podDirectories: [String: (namespace: String, pod: String)] = [:]
    private var rescanNeeded = true
    /// What happened, recorded in the order it happened once the agent has caught up and has
    /// held the first event for a moment (at start it learns of many runs' starts and ends over
    /// several turns, and pods found together may come a turn apart), or a second after the first.
    private var activity: [ActivityEvent] = []
    private var activitySince: Int64 = 0
    static let activityHold: Int64 = 1_000_000_000
    static let activitySettle: Int64 = 250_000_000

    init(configuration: IngestConfiguration, store: RingDirectory, toolRings: ToolRings, inventory: Inventory,
         health: AgentHealth, retired: RetiredContainers, podSource: (any PodSource)? = nil, logger: Logger) throws {
        self.configuration = configuration
        self.retired = retired
        self.health = health
        self.store = store
        self.toolRings = toolRings
        self.inventory = inventory
        self.logger = logger
        classifier = RingClassifier(node: configuration.node)
        podList = podSource ?? configuration.podsJSON.map(PodListFile.init(path:))
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AgentError.system("pipe", errno) }
        for fd in fds { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        wakePipe = (fds[0], fds[1])
        inotify = try Inotify()
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    func start() {
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "ingest"
        thread.start()
    }

    /// Stops the loop after the turn in progress and waits for it; every append it made is in
    /// its ring already.
    func stop() {
        stopping.withLock { $0 = true }
        _ = write(wakePipe.write, [1], 1)
        done.wait()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: configuration.limits.quotaBytes)
        let interval = configuration.rescanInterval
        let intervalNanos = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        var nextScan: Int64 = 0
        while !isStopping {
            let now = NanoTime.now()
            if podList?.refresh() == true { refreshMetadata(now: now) }
            if rescanNeeded || now >= nextScan {
                scan(now: now)
                dirty.formUnion(logs.keys)
                runEndsToCheck = true
                nextScan = now + intervalNanos
                rescanNeeded = false
            }
            var progressed = false
            // Containers within their rate limit first: a quiet one's line waits for no flood.
            let (calm, flooding) = dirty.reduce(into: ([ContainerKey](), [ContainerKey]())) { lists, key in
                if logs[key]?.overRateLimit == true { lists.1.append(key) } else { lists.0.append(key) }
            }
            for key in calm where takeTurn(key, buffer: &buffer, now: now) { progressed = true }
            // Events taken off the queue during the round: the wait below must not sleep on
            // what they said (a flooding container written again, a new pod).
            var eventsTaken = false
            for key in flooding {
                if takeTurn(key, buffer: &buffer, now: now) { progressed = true }
                // A quiet container's line written during the floods' turns goes after this
                // one, not after them all: a look at inotify costs a read of a descriptor.
                let events = inotify?.pending() ?? []
                eventsTaken = eventsTaken || !events.isEmpty
                for arrival in handle(events) where logs[arrival]?.overRateLimit == false {
                    if takeTurn(arrival, buffer: &buffer, now: now) { progressed = true }
                }
            }
            if runEndsToCheck {
                runEndsToCheck = false
                finishCompletedRuns(now: now)
            }
            recordActivity(caughtUp: !progressed, now: now)
            // Idle, wake for the next scan, or when held activity is due.
            let due = activity.isEmpty ? Int64.max : activitySince + Self.activitySettle
            let wait = progressed || eventsTaken ? 0 : Int32(max(0, min(1000, (min(nextScan, due) - NanoTime.now()) / 1_000_000)))
            handle(inotify?.wait(timeout: wait, wake: wakePipe.read) ?? [])
            var drain = [UInt8](repeating: 0, count: 64)
            _ = read(wakePipe.read, &drain, drain.count)
        }
        recordActivity(caughtUp: true, now: NanoTime.now(), final: true)
        for log in logs.values {
            do {
                try log.ring.sync()
            } catch {
                AgentFailure.syncAtStop.record(error, logger: logger, ["ring": "\(log.ring.id)"])
            }
        }
    }

    /// One turn of a container: up to the quota read into its ring. Returns whether it read anything.
    private func takeTurn(_ key: ContainerKey, buffer: inout [UInt8], now: Int64) -> Bool {
        guard let log = logs[key] else {
            dirty.remove(key)
            return false
        }
        do {
            let consumed = try log.ingest(buffer: &buffer, limits: configuration.limits, now: now)
            if consumed > 0 {
                health.ingestSucceeded()
                inventory.touch(log.ring.id)
                stats.withLock { $0.bytes += UInt64(consumed) }
                return true
            }
            if log.atEnd {
                dirty.remove(key)
                runEndsToCheck = true
            }
        } catch {
            // Kept dirty: a full disk is retried next round, and recovers when space returns.
            logger.error("ingest failed", metadata: ["container": "\(key)", "error": "\(error)"])
            health.ingestFailed(error)
        }
        return false
    }

    /// Marks the containers the events are about as dirty, and returns them.
    @discardableResult
    private func handle(_ events: [Inotify.Event]) -> Set<ContainerKey> {
        var changed: Set<ContainerKey> = []
        for event in events {
            // The kernel's queue overflowed: what changed is unknown, so look at everything.
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                rescanNeeded = true
                continue
            }
            if event.directory == configuration.podsDirectory || ContainerKey.podDirectory(lastComponent(event.directory)) != nil {
                rescanNeeded = true
                continue
            }
            if event.mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF) != 0 { rescanNeeded = true }
            changed.formUnion(keysByDirectory[event.directory] ?? [])
        }
        dirty.formUnion(changed)
        return changed
    }

    private func lastComponent(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "")
    }

    // MARK: discovery

    /// Looks at every pod directory: new container logs get a ring (or their old one back).
    private func scan(now: Int64) {
        loadRings()
        let root = configuration.podsDirectory
        inotify?.watch(root)
        let listing = try? FileManager.default.contentsOfDirectory(atPath: root)
        let names = listing ?? []
        var present: Set<String> = []
        for name in names {
            guard let pod = ContainerKey.podDirectory(name), classifier.isCandidate(namespace: pod.namespace) else { continue }
            present.insert(pod.uid)
            podDirectories[pod.uid] = (pod.namespace, pod.pod)
            let podPath = root + "/" + name
            inotify?.watch(podPath)
            for container in (try? FileManager.default.contentsOfDirectory(atPath: podPath)) ?? [] {
                let directory = podPath + "/" + container
                inotify?.watch(directory)
                for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                    guard let restart = ContainerKey.restart(ofLogFile: file) else { continue }
                    let key = ContainerKey(namespace: pod.namespace, pod: pod.pod, podUID: pod.uid, container: container, restart: restart)
                    if logs[key] == nil, finished[key.podUID]?.contains(key.description) != true { follow(key, directory: directory, now: now) }
                }
            }
        }
        // Only a listing that worked says which pods are gone: taken from a failed one, every
        // finished run would be forgotten and read in again.
        if listing != nil { forgetPods(otherThan: present, now: now) }
        stats.withLock { stats in
            stats.containers = logs.count
            stats.watches = inotify?.watchCount ?? 0
            stats.podListError = podList?.lastError
        }
    }

    /// Takes the data directory's rings at the first scan: live ones to resume, finished ones
    /// never to follow again.
    private func loadRings() {
        guard ringsByContainer == nil else { return }
        var live: [String: Ring] = [:]
        // A folded run's container is in `retired` (recorded when it folded): not read again either.
        for ring in store.rings(matching: RingFilter(folded: false)) {
            guard let key = ring.metadata.containerKey else { continue }
            if ring.isFinished { finished[String(key.prefix { $0 != "/" }), default: []].insert(key) } else { live[key] = ring }
        }
        ringsByContainer = live
    }

    /// What the agent remembers of pods whose directories are gone goes: their retired and
    /// finished runs (and, at the first such look, those of pods that went while it was down).
    private func forgetPods(otherThan present: Set<String>, now: Int64) {
        do {
            try retired.forget(podsOtherThan: present)
        } catch {
            logger.error("cannot update the retired containers' file", metadata: ["error": "\(error)"])
        }
        if !finishedPruned {
            finished = finished.filter { present.contains($0.key) }
            finishedPruned = true
        }
        for (uid, pod) in podDirectories where !present.contains(uid) {
            podDirectories[uid] = nil
            finished[uid] = nil
            if let tool = classifier.tool(namespace: pod.namespace, labels: podList?.pods[uid]?.metadata.labels) {
                note(ActivityEvent(podDeleted: pod.pod, tool: tool, time: now), now: now)
            }
        }
    }

    private func follow(_ key: ContainerKey, directory: String, now: Int64) {
        let pod = podList?.pods[key.podUID]
        if retired.contains(key) {
            finished[key.podUID, default: []].insert(key.description)
            return
        }
        if let ring = ringsByContainer?[key.description], !ring.isDeleted {
            guard !ring.isFinished else {
                ringsByContainer?[key.description] = nil
                finished[key.podUID, default: []].insert(key.description)
                return
            }
            track(ContainerLog(key: key, directory: directory, ring: ring, limits: configuration.limits, now: now))
            return
        }
        guard let metadata = classifier.metadata(for: key, pod: pod) else { return }
        do {
            let ring = try store.create(metadata: metadata, prefixCapacity: configuration.capacities.prefix,
                                        suffixCapacity: configuration.capacities.suffix, now: now)
            ringsByContainer?[key.description] = ring
            track(ContainerLog(key: key, directory: directory, ring: ring, limits: configuration.limits, now: now))
            inventory.touch(ring.id)
            note(ActivityEvent(.started, of: metadata, message: "\(describe(metadata)) started", time: metadata.startedAt ?? now), now: now)
        } catch {
            logger.error("cannot follow a container", metadata: ["container": "\(key)", "error": "\(error)"])
        }
    }

    private func note(_ event: ActivityEvent, now: Int64) {
        if activity.isEmpty { activitySince = now }
        activity.append(event)
    }

    /// `final`: at stop, whatever is held.
    private func recordActivity(caughtUp: Bool, now: Int64, final: Bool = false) {
        let held = now - activitySince
        guard !activity.isEmpty, final || (caughtUp && held >= Self.activitySettle) || held >= Self.activityHold else { return }
        do {
            try toolRings.record(activity)
        } catch {
            AgentFailure.activityRecord.record(error, logger: logger, ["events": "\(activity.count)"])
        }
        activity.removeAll()
    }

    private func track(_ log: ContainerLog) {
        logs[log.key] = log
        keysByDirectory[log.directory, default: []].insert(log.key)
    }

    private func untrack(_ key: ContainerKey) {
        guard let log = logs.removeValue(forKey: key) else { return }
        keysByDirectory[log.directory]?.remove(key)
        if keysByDirectory[log.directory]?.isEmpty == true { keysByDirectory[log.directory] = nil }
    }

    // MARK: metadata and the end of runs

    private func refreshMetadata(now: Int64) {
        for log in logs.values {
            guard let pod = podList?.pods[log.key.podUID], var metadata = classifier.metadata(for: log.key, pod: pod) else { continue }
            let current = log.ring.metadata
            metadata.extra = current.extra
            guard metadata != current else { continue }
            do {
                try log.ring.updateMetadata { $0 = metadata }
                inventory.touch(log.ring.id)
                metadataUpdates.healed()
            } catch {
                // Every pod event tries again.
                metadataUpdates.failed(error, logger: logger, ["ring": "\(log.ring.id)", "container": "\(log.key)"])
            }
        }
        rescanNeeded = true  // build pods may have become known
    }

    /// A run segment is complete once its file was read to the end and nothing more can come:
    /// the container terminated, restarted (a newer segment exists), or its pod is gone.
    private func finishCompletedRuns(now: Int64) {
        for (key, log) in logs where log.atEnd && !dirty.contains(key) {
            let pod = podList?.pods[key.podUID]
            let terminated = pod?.state(of: key.container, restart: key.restart)?.terminated != nil
            let restarted = FileManager.default.fileExists(atPath: log.directory + "/\(key.restart + 1).log")
            let podGone = podDirectories[key.podUID] == nil
            guard terminated || restarted || podGone else { continue }
            do {
                var metadata = pod.flatMap { classifier.metadata(for: key, pod: $0) } ?? log.ring.metadata
                metadata.extra = log.ring.metadata.extra
                if metadata.finishedAt == nil { metadata.finishedAt = now }
                let final = metadata
                try log.ring.updateMetadata { $0 = final }
                try log.ring.finish()
                inventory.touch(log.ring.id)
                note(ActivityEvent(.exited, of: final, message: "\(describe(final)) \(exitDescription(final))", time: final.finishedAt ?? now),
                     now: now)
            } catch {
                logger.error("cannot finish a run", metadata: ["container": "\(key)", "error": "\(error)"])
            }
            untrack(key)
            ringsByContainer?[key.description] = nil
            // A pod that is gone never comes back under its uid: nothing to remember.
            if !podGone { finished[key.podUID, default: []].insert(key.description) }
        }
    }

    private func describe(_ metadata: RingMetadata) -> String {
        switch metadata.kind {
        case .webservice: "webservice pod \(metadata.pod ?? metadata.run)"
        case .build: "build \(metadata.name) container \(metadata.container ?? "?")"
        default: "\(metadata.kind.rawValue) job \(metadata.name) (run \(metadata.run))"
        }
    }

    private func exitDescription(_ metadata: RingMetadata) -> String {
        guard let code = metadata.exitCode else { return "ended" }
        let reason = metadata.reason.map { " (\($0))" } ?? ""
        return code == 0 && metadata.reason != "OOMKilled" ? "exited 0\(reason)" : "exited \(code)\(reason)"
    }
}
