import ClientConnections
import FairShare
import Foundation
import Hummingbird
import LogModel
import Logging
import Prometheus
import RingStore
import ServiceLifecycle
import SystemdSupport

/// How the agent shares its reads among tools (docs/architecture.md, "Threads").
public struct ReadSharing: Sendable, Equatable {
    /// Threads that read rings (page reads, block decoding, scans), in turns by tool, at nice
    /// 10; as many again, at normal priority, for what a follow that has caught up reads first
    /// after each wake-up (what was just appended).
    public var threads: Int
    /// Reads that may scan (downloads, searches) a tool may have running at once; follows and
    /// small reads (a page) are not counted.
    public var perTool: Int
    /// How long one more waits for a place before it is refused with 429.
    public var wait: Duration

    public init(threads: Int = 2, perTool: Int = 4, wait: Duration = .seconds(1)) {
        self.threads = threads
        self.perTool = perTool
        self.wait = wait
    }
}

/// Everything a node agent is told at start.
public struct AgentConfiguration: Sendable {
    public var node: String
    public var podsDirectory: String
    public var dataDirectory: String
    public var host: String
    public var port: Int
    /// The gateway's bearer token; nil only with `--insecure-no-auth`.
    public var token: String?
    public var podsJSON: String?
    /// Watch pods through the Kubernetes API instead of a PodList file.
    public var kubeAPI: KubeAPIConfiguration?
    /// Also ingest a journal directory (libsystemd's sd_journal).
    public var journal: JournalConfiguration?
    public var capacities: RingCapacities
    public var retention: RetentionPolicy
    public var limits: IngestLimits
    public var heartbeat: Duration
    public var rescanInterval: Duration
    public var retentionInterval: Duration
    /// How often what ingest wrote is forced to disk (what power loss can take); nil: only at stop.
    public var syncInterval: Duration?
    /// The ring file format of new rings: 2 (compressed blocks) unless a fleet that may roll
    /// back to a release reading only version 1 asks for 1 (docs/ring-format.md).
    public var ringFileVersion: RingFileVersion
    /// Which finished runs fold into their job's history file; nil keeps every run in its ring
    /// file (what a fleet that may roll back to a release without history files sets).
    public var fold: FoldPolicy?
    public var reads: ReadSharing
    /// Threads of the maintenance pool: retention, folding, syncs, purges, pushes, listings.
    public var maintenanceThreads: Int

    public init(node: String, podsDirectory: String, dataDirectory: String, host: String, port: Int, token: String?,
                podsJSON: String?, kubeAPI: KubeAPIConfiguration? = nil, journal: JournalConfiguration? = nil,
                capacities: RingCapacities,
                retention: RetentionPolicy, limits: IngestLimits,
                heartbeat: Duration = .seconds(15), rescanInterval: Duration = .seconds(5),
                retentionInterval: Duration = .seconds(60), syncInterval: Duration? = .seconds(5),
                ringFileVersion: RingFileVersion = .newest, fold: FoldPolicy? = FoldPolicy(), reads: ReadSharing = ReadSharing(),
                maintenanceThreads: Int = 4) {
        self.reads = reads
        self.maintenanceThreads = maintenanceThreads
        self.ringFileVersion = ringFileVersion
        self.fold = fold
        self.node = node
        self.podsDirectory = podsDirectory
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.token = token
        self.podsJSON = podsJSON
        self.kubeAPI = kubeAPI
        self.journal = journal
        self.capacities = capacities
        self.retention = retention
        self.limits = limits
        self.heartbeat = heartbeat
        self.rescanInterval = rescanInterval
        self.retentionInterval = retentionInterval
        self.syncInterval = syncInterval
    }
}

/// The node agent: ingest, retention and the HTTP API, started and stopped together.
public enum LogsAgent {
    /// The agent as an application, not yet running: its router, and its services (ingest,
    /// retention, the periodic sync, systemd's watchdog). Metrics go to whatever the caller
    /// bootstrapped; `registry` is what `/metrics` shows. Stopped in reverse order: the server
    /// first, then ingest after the turn in progress (every append is in its ring already), and
    /// the last sync once ingest has stopped.
    public static func buildApplication(_ configuration: AgentConfiguration, registry: PrometheusCollectorRegistry, logger: Logger,
                                        onReady: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        let store = try RingDirectory(path: configuration.dataDirectory, fileVersion: configuration.ringFileVersion)
        for (path, reason) in store.quarantined { logger.warning("moved aside a ring file", metadata: ["path": "\(path)", "reason": "\(reason)"]) }
        for problem in store.problems { logger.warning("damage in a history file", metadata: ["problem": "\(problem)"]) }
        let inventory = Inventory(instance: UUID().uuidString.lowercased())
        let health = AgentHealth()
        let toolRings = ToolRings(store: store, node: configuration.node, capacities: configuration.capacities, inventory: inventory)
        let retired = RetiredContainers(dataDirectory: configuration.dataDirectory)
        // Runs folded by a release before the run index: recorded as folding runs are now.
        try retired.add(store.indexedAtOpen.compactMap(\.containerKey))
        let metrics = AgentMetrics()
        AgentFailure.registerAll()
        let watcher = try configuration.kubeAPI.map { try KubePodWatcher(configuration: $0, node: configuration.node, logger: logger) }
        let ingestor = try Ingestor(
            configuration: IngestConfiguration(podsDirectory: configuration.podsDirectory, node: configuration.node,
                                               capacities: configuration.capacities, limits: configuration.limits,
                                               podsJSON: configuration.podsJSON, rescanInterval: configuration.rescanInterval),
            store: store, toolRings: toolRings, inventory: inventory, health: health, retired: retired, podSource: watcher, logger: logger)
        let reads = FairPool(threads: configuration.reads.threads, niceness: 10)
        let follows = FairPool(threads: configuration.reads.threads)
        let upkeep = FairPool(threads: configuration.maintenanceThreads)
        let api = AgentAPI(node: configuration.node, store: store, inventory: inventory, toolRings: toolRings,
                           ingestor: ingestor, retiredContainers: retired, health: health, registry: registry, metrics: metrics,
                           token: configuration.token,
                           heartbeat: configuration.heartbeat, retention: configuration.retention, reads: reads, follows: follows, upkeep: upkeep,
                           admission: ToolAdmission(limit: configuration.reads.perTool, wait: configuration.reads.wait), logger: logger)
        let journal = try configuration.journal.map {
            try JournalIngest(configuration: $0, store: store, node: configuration.node, capacities: configuration.capacities,
                              inventory: inventory, health: health, logger: logger)
        }
        // First in, last out: the pools stop after the server and the services that use them.
        var services: [any Service] = [FairPoolService(pool: upkeep), FairPoolService(pool: reads), FairPoolService(pool: follows)]
        if let interval = configuration.syncInterval { services.append(SyncService(store: store, interval: interval, upkeep: upkeep, logger: logger)) }
        if let policy = configuration.fold {
            services.append(FoldService(store: store, inventory: inventory, retired: retired, policy: policy, upkeep: upkeep, logger: logger))
        }
        if let watcher { services.append(watcher) }
        if let journal { services.append(IngestService(ingest: journal, upkeep: upkeep)) }
        services.append(IngestService(ingest: ingestor, upkeep: upkeep))
        services.append(RetentionService(store: store, inventory: inventory, retired: retired, metrics: metrics, policy: configuration.retention,
                                         interval: configuration.retentionInterval, upkeep: upkeep, logger: logger))
        services.append(SystemdService(notifier: SystemdNotifier()))
        return Application(router: api.router(), server: .http1(configuration: ClosingOnClientHalfClose.http1),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "logs-agent"),
                           services: services,
                           onServerRunning: { channel in
                               SystemdNotifier().ready()
                               onReady(channel.localAddress?.port ?? configuration.port)
                           },
                           logger: logger)
    }

    /// Runs the agent until SIGTERM or SIGINT.
    public static func run(_ application: some ApplicationProtocol, logger: Logger) async throws {
        var group = ServiceGroupConfiguration(services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }
}
