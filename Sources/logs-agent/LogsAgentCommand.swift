import ArgumentParser
import Foundation
import LogModel
import Logging
import Metrics
import Prometheus
import NodeAgent
import RingStore

/// `logs-agent`: one per node. Every flag can also be set by an environment variable, named in
/// its help (flags win).
@main
struct LogsAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs-agent",
        abstract: "Ingest this node's container logs into ring files and serve them to the logs gateway.")

    @Option(help: "This node's name (LOGS_AGENT_NODE; default: the host name).")
    var node = env("NODE") ?? ProcessInfo.processInfo.hostName
    @Option(help: "The kubelet's pod log directory (LOGS_AGENT_PODS_DIR).")
    var podsDir = env("PODS_DIR") ?? "/var/log/pods"
    @Option(help: "Where ring files are kept (LOGS_AGENT_DATA_DIR).")
    var dataDir = env("DATA_DIR") ?? "/var/lib/toolforge-logs"
    @Option(help: "Address to serve on, HOST:PORT (LOGS_AGENT_LISTEN).")
    var listen = env("LISTEN") ?? "0.0.0.0:8090"
    @Option(help: "File holding the bearer token the gateway presents (LOGS_AGENT_TOKEN_FILE).")
    var tokenFile: String?
    @Flag(help: "Serve without a token: development only (LOGS_AGENT_INSECURE_NO_AUTH=1).")
    var insecureNoAuth = env("INSECURE_NO_AUTH") == "1"
    @Option(help: "A `kubectl get pods -o json` file for pod metadata, re-read when it changes (LOGS_AGENT_PODS_JSON).")
    var podsJson: String?
    @Option(help: "Watch this node's pods through the Kubernetes API at this URL (LOGS_AGENT_KUBE_API), e.g. https://kubernetes.default.svc.")
    var kubeApi: String?
    @Option(help: "Bearer token file for the Kubernetes API (LOGS_AGENT_KUBE_TOKEN_FILE; default: the service account's).")
    var kubeTokenFile = env("KUBE_TOKEN_FILE") ?? "/var/run/secrets/kubernetes.io/serviceaccount/token"
    @Option(help: "CA bundle for the Kubernetes API (LOGS_AGENT_KUBE_CA_FILE; default: the service account's).")
    var kubeCaFile = env("KUBE_CA_FILE") ?? "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    @Option(help: "Also ingest this journal directory, e.g. /var/log/journal (LOGS_AGENT_JOURNAL_DIR).")
    var journalDir: String?
    @Option(help: "The journal field that names an entry's tool (LOGS_AGENT_JOURNAL_TOOL_FIELD).")
    var journalToolField = env("JOURNAL_TOOL_FIELD") ?? "TOOLFORGE_TOOL"
    @Option(help: "Else a regular expression whose one group finds the tool in CONTAINER_NAME (LOGS_AGENT_JOURNAL_TOOL_PATTERN).")
    var journalToolPattern: String?
    @Option(help: "A journal run quiet for this long is finished, so that retention may evict it (LOGS_AGENT_JOURNAL_IDLE_FINISH).")
    var journalIdleFinish = env("JOURNAL_IDLE_FINISH") ?? "1h"
    @Option(help: "Bytes kept from the start of each run segment (LOGS_AGENT_PREFIX_BYTES).")
    var prefixBytes = env("PREFIX_BYTES") ?? "1MiB"
    @Option(help: "Newest bytes kept of each run segment (LOGS_AGENT_SUFFIX_BYTES).")
    var suffixBytes = env("SUFFIX_BYTES") ?? "15MiB"
    @Option(help: "Ring file format of new rings: 2 compresses, 1 is what older releases read (LOGS_AGENT_RING_FORMAT).")
    var ringFormat = Int(env("RING_FORMAT") ?? "") ?? Int(RingFileVersion.newest.rawValue)
    @Option(help: "Bytes on disk for all rings of this node (LOGS_AGENT_BUDGET_BYTES).")
    var budgetBytes = env("BUDGET_BYTES") ?? "20GiB"
    @Option(help: "Part of the budget one tool may hold, 0 to 1 (LOGS_AGENT_TOOL_SHARE).")
    var toolShare = Double(env("TOOL_SHARE") ?? "") ?? 0.2
    @Option(help: "At most this many finished runs per job (LOGS_AGENT_KEEP_RUNS; default: as many as the budget holds).")
    var keepRuns: Int?
    @Option(help: "Fold finished small runs into their job's history file, true or false (LOGS_AGENT_FOLD_RUNS).")
    var foldRuns = env("FOLD_RUNS") ?? "true"
    @Option(help: "How long a run has been finished before it folds (LOGS_AGENT_FOLD_AFTER).")
    var foldAfter = env("FOLD_AFTER") ?? "1m"
    @Option(help: "Evict finished runs older than this, e.g. 14d (LOGS_AGENT_MAX_AGE; default: none).")
    var maxAge: String?
    @Option(help: "How often retention looks at the data directory (LOGS_AGENT_RETENTION_INTERVAL).")
    var retentionInterval = env("RETENTION_INTERVAL") ?? "1m"
    @Option(help: "Ingest rate per container, bytes a second (LOGS_AGENT_RATE_BYTES).")
    var rateBytes = env("RATE_BYTES") ?? "1MiB"
    @Option(help: "Ingest burst per container (LOGS_AGENT_BURST_BYTES).")
    var burstBytes = env("BURST_BYTES") ?? "8MiB"
    @Option(help: "Longest line kept; longer ones are truncated and flagged (LOGS_AGENT_MAX_LINE_BYTES).")
    var maxLineBytes = env("MAX_LINE_BYTES") ?? "64KiB"
    @Option(help: "Heartbeat interval of follows (LOGS_AGENT_HEARTBEAT).")
    var heartbeat = env("HEARTBEAT") ?? "15s"
    @Option(help: "Safety-net rescan of the pods directory under inotify (LOGS_AGENT_RESCAN).")
    var rescan = env("RESCAN") ?? "5s"
    @Option(help: "Threads that read rings, in turns by tool (at nice 10), and as many for a caught-up follow's first page after each wake-up (LOGS_AGENT_READ_THREADS).")
    var readThreads = env("READ_THREADS") ?? "2"
    @Option(help: "Reads that may scan (downloads, searches) one tool may run at once; one more waits, then gets 429 (LOGS_AGENT_READS_PER_TOOL).")
    var readsPerTool = env("READS_PER_TOOL") ?? "4"
    @Option(help: "How long a read beyond --reads-per-tool waits for a place (LOGS_AGENT_READ_WAIT).")
    var readWait = env("READ_WAIT") ?? "1s"
    @Option(help: "Threads for retention, folding, syncs, purges, pushes and listings (LOGS_AGENT_MAINTENANCE_THREADS).")
    var maintenanceThreads = env("MAINTENANCE_THREADS") ?? "4"

    static func env(_ name: String) -> String? { ProcessInfo.processInfo.environment["LOGS_AGENT_" + name] }

    static func count(_ text: String, _ flag: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let count = Int(text), range.contains(count) else {
            throw ValidationError("\(flag): expected a whole number from \(range.lowerBound) to \(range.upperBound), not \(text)")
        }
        return count
    }

    func run() async throws {
        // Options without a default fall back to the environment here (an optional @Option
        // cannot take one from it at its declaration).
        let tokenFile = tokenFile ?? Self.env("TOKEN_FILE"), podsJson = podsJson ?? Self.env("PODS_JSON")
        let kubeApi = kubeApi ?? Self.env("KUBE_API"), journalDir = journalDir ?? Self.env("JOURNAL_DIR")
        let journalToolPattern = journalToolPattern ?? Self.env("JOURNAL_TOOL_PATTERN"), maxAge = maxAge ?? Self.env("MAX_AGE")
        let keepRuns = try (keepRuns.map(String.init) ?? Self.env("KEEP_RUNS")).map { text in
            guard let count = Int(text), count >= 1 else { throw ValidationError("--keep-runs: expected a count of runs of at least 1, not \(text)") }
            return count
        }
        guard let fold = ["true": true, "false": false][foldRuns] else {
            throw ValidationError("--fold-runs: expected true or false, not \(foldRuns)")
        }
        var logger = Logger(label: "logs-agent")
        logger[metadataKey: "node"] = "\(node)"
        let (host, port) = try Self.address(listen)
        var token: String?
        if let tokenFile {
            do {
                token = try SecretFile.read(tokenFile, flag: "--token-file")
            } catch {
                throw ValidationError("\(error)")
            }
        } else if insecureNoAuth {
            logger.warning("SERVING WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who can reach the agent reads every log", metadata: ["listen": "\(listen)"])
        } else {
            throw ValidationError("--token-file is required (or --insecure-no-auth for development)")
        }
        let configuration = AgentConfiguration(
            node: node, podsDirectory: podsDir, dataDirectory: dataDir, host: host, port: port, token: token,
            podsJSON: podsJson,
            kubeAPI: kubeApi.map { KubeAPIConfiguration(url: $0, tokenFile: kubeTokenFile, caFile: kubeCaFile) },
            journal: try journalDir.map {
                JournalConfiguration(directory: $0, toolField: journalToolField, toolPattern: journalToolPattern,
                                     idleFinish: try Self.duration(journalIdleFinish, "--journal-idle-finish"))
            },
            capacities: RingCapacities(prefix: try Self.size(prefixBytes, "--prefix-bytes", multipleOf: 8),
                                       suffix: try Self.size(suffixBytes, "--suffix-bytes", multipleOf: 8)),
            retention: RetentionPolicy(budgetBytes: try Self.size(budgetBytes, "--budget-bytes"), toolShare: toolShare,
                                       keepRuns: keepRuns, maxAge: try maxAge.map { try Self.duration($0, "--max-age") }),
            limits: IngestLimits(maxLineBytes: Int(try Self.size(maxLineBytes, "--max-line-bytes")),
                                 rateBytesPerSecond: try Self.size(rateBytes, "--rate-bytes"),
                                 burstBytes: try Self.size(burstBytes, "--burst-bytes")),
            heartbeat: try Self.duration(heartbeat, "--heartbeat"), rescanInterval: try Self.duration(rescan, "--rescan"),
            retentionInterval: try Self.duration(retentionInterval, "--retention-interval"),
            ringFileVersion: try Self.ringFileVersion(ringFormat), fold: fold ? FoldPolicy(after: try Self.duration(foldAfter, "--fold-after")) : nil,
            reads: ReadSharing(threads: try Self.count(readThreads, "--read-threads", 1...256),
                               perTool: try Self.count(readsPerTool, "--reads-per-tool", 1...10_000),
                               wait: try Self.duration(readWait, "--read-wait")),
            maintenanceThreads: try Self.count(maintenanceThreads, "--maintenance-threads", 1...256))
        // An agent over a directory that is not there would ingest nothing and say nothing; one
        // that reads the journal (a host without Kubernetes, under systemd) may have none.
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: podsDir, isDirectory: &isDirectory) || !isDirectory.boolValue {
            guard journalDir != nil else {
                throw ValidationError("--pods-dir: no directory at \(podsDir) (the kubelet's pod logs: mount the node's /var/log/pods there)")
            }
            logger.warning("no pods directory: ingesting the journal only", metadata: ["pods-dir": "\(podsDir)"])
        }
        let fileLimit = OpenFileLimit.raise()
        logger.info("open-file limit raised", metadata: ["limit": "\(fileLimit)", "containers": "\(fileLimit / 2)"])
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let readyLogger = logger
        let app = try LogsAgent.buildApplication(configuration, registry: registry, logger: logger) { port in
            // Tests and scripts wait for this line (and learn the port when 0 was asked for).
            readyLogger.info("logs-agent ready", metadata: ["listen": "\(host):\(port)"])
            FileHandle.standardOutput.write(Data("logs-agent ready on \(host):\(port)\n".utf8))
        }
        try await LogsAgent.run(app, logger: logger)
    }

    static func ringFileVersion(_ number: Int) throws -> RingFileVersion {
        guard let version = UInt16(exactly: number).flatMap(RingFileVersion.init(rawValue:)) else {
            throw ValidationError("--ring-format: expected one of \(RingFileVersion.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")), not \(number)")
        }
        return version
    }

    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen: expected HOST:PORT, not \(text)")
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// `1048576`, `64KiB`, `15MiB`, `20GiB` (also `k`, `M`, `G` as powers of 1024).
    static func size(_ text: String, _ flag: String, multipleOf alignment: UInt64 = 1) throws -> UInt64 {
        let units: [(String, UInt64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
                                         ("k", 1 << 10), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
        let (digits, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let value = UInt64(digits), value.multipliedReportingOverflow(by: scale).overflow == false else {
            throw ValidationError("\(flag): expected a size such as 1048576, 64KiB or 15MiB, not \(text)")
        }
        guard (value * scale) % alignment == 0 else { throw ValidationError("\(flag): must be a multiple of \(alignment) bytes") }
        return value * scale
    }

    static func duration(_ text: String, _ flag: String) throws -> Duration {
        guard let nanos = TimeSpec.duration(text), nanos > 0 else {
            throw ValidationError("\(flag): expected a duration such as 15s, 10m, 2h or 14d, not \(text)")
        }
        return .nanoseconds(nanos)
    }
}
