import Foundation
import Hummingbird
import LogModel
import Logging
import Metrics
import Prometheus
import RingStore
import ServiceLifecycle
import SystemdSupport

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

    public init(node: String, podsDirectory: String, dataDirectory: String, host: String, port: Int, token: String?,
                podsJSON: String?, kubeAPI: KubeAPIConfiguration? = nil, journal: JournalConfiguration? = nil,
                capacities: RingCapacities,
                retention: RetentionPolicy, limits: IngestLimits,
                heartbeat: Duration = .seconds(15), rescanInterval: Duration = .seconds(5),
                retentionInterval: Duration = .seconds(60), syncInterval: Duration? = .seconds(5)) {
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
    /// Runs until SIGTERM or SIGINT, then stops accepting, ends follows, stops ingest after
    /// the turn in progress (every append is in its ring already), and returns.
    public static func run(_ configuration: AgentConfiguration, logger: Logger, onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let fileLimit = OpenFileLimit.raise()
        logger.info("open-file limit \(fileLimit): room for about \(fileLimit / 2) containers")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = try RingDirectory(path: configuration.dataDirectory)
        for (path, reason) in store.quarantined { logger.warning("moved aside \(path): \(reason)") }
        let inventory = Inventory(instance: UUID().uuidString.lowercased())
        let health = AgentHealth()
        let toolRings = ToolRings(store: store, node: configuration.node, capacities: configuration.capacities, inventory: inventory)
        let watcher = try configuration.kubeAPI.map { try KubePodWatcher(configuration: $0, node: configuration.node, logger: logger) }
        let ingestor = try Ingestor(
            configuration: IngestConfiguration(podsDirectory: configuration.podsDirectory, node: configuration.node,
                                               capacities: configuration.capacities, limits: configuration.limits,
                                               podsJSON: configuration.podsJSON, rescanInterval: configuration.rescanInterval),
            store: store, toolRings: toolRings, inventory: inventory, health: health, podSource: watcher, logger: logger)
        let api = AgentAPI(node: configuration.node, store: store, inventory: inventory, toolRings: toolRings,
                           ingestor: ingestor, health: health, registry: registry, metrics: AgentMetrics(),
                           token: configuration.token,
                           heartbeat: configuration.heartbeat, retention: configuration.retention)
        let app = Application(router: api.router(),
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                   serverName: "logs-agent"),
                              onServerRunning: { channel in
                                  SystemdNotifier().ready()
                                  onReady(channel.localAddress?.port ?? configuration.port)
                              },
                              logger: logger)
        let journal = try configuration.journal.map {
            try JournalIngest(configuration: $0, store: store, node: configuration.node, capacities: configuration.capacities,
                              inventory: inventory, health: health, logger: logger)
        }
        // Stopped in reverse order: the last sync runs once ingest has stopped.
        let sync = configuration.syncInterval.map { SyncService(store: store, interval: $0, logger: logger) }
        let services: [any Service] = (sync.map { [$0] } ?? []) + (watcher.map { [$0] } ?? [])
            + (journal.map { [IngestService(ingest: $0)] } ?? []) + [
            IngestService(ingest: ingestor),
            RetentionService(store: store, inventory: inventory, policy: configuration.retention,
                             interval: configuration.retentionInterval, logger: logger),
            app,
            SystemdService(notifier: SystemdNotifier()),
        ]
        var group = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }
}
