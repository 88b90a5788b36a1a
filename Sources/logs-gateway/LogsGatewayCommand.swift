import AgentWire
import ArgumentParser
import Foundation
import Gateway
import LogModel
import Logging
import Metrics
import Prometheus

/// `logs-gateway`: the public logs API. Every flag can also be set by an environment variable
/// named in its help (repeatable flags: comma-separated).
@main
struct LogsGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs-gateway",
        abstract: "Serve the public logs API over the node agents.")

    @Option(help: "Address to serve on, HOST:PORT (LOGS_GATEWAY_LISTEN).")
    var listen = env("LISTEN") ?? "0.0.0.0:8443"
    @Option(help: "An agent, NODE=URL; repeatable (LOGS_GATEWAY_AGENTS, comma-separated).")
    var agent: [String] = list("AGENTS")
    @Option(help: "Instead of --agent: HOST:PORT, every address of HOST is an agent, re-resolved at each index refresh (LOGS_GATEWAY_AGENTS_DNS).")
    var agentsDns = env("AGENTS_DNS") ?? ""
    @Option(help: "File with the bearer token presented to the agents (LOGS_GATEWAY_AGENT_TOKEN_FILE).")
    var agentTokenFile: String?
    @Option(help: "Who says who calls: proxy (identity headers from --trusted-proxy) or mtls (client certificates) (LOGS_GATEWAY_AUTH).")
    var auth = env("AUTH") ?? "proxy"
    @Option(help: "A front proxy's address range whose identity headers are believed; repeatable (LOGS_GATEWAY_TRUSTED_PROXIES).")
    var trustedProxy: [String] = list("TRUSTED_PROXIES")
    @Option(help: "mtls: the server certificate chain, PEM (LOGS_GATEWAY_TLS_CERT).")
    var tlsCert: String?
    @Option(help: "mtls: the server's private key, PEM (LOGS_GATEWAY_TLS_KEY).")
    var tlsKey: String?
    @Option(help: "mtls: the CA that signs tool and user certificates, PEM (LOGS_GATEWAY_CLIENT_CA).")
    var clientCA: String?
    @Option(help: "The subject organisation of tool certificates (LOGS_GATEWAY_TOOL_ORGANIZATION).")
    var toolOrganization = env("TOOL_ORGANIZATION") ?? "toolforge"
    @Option(help: "The subject organisation of user certificates (LOGS_GATEWAY_USER_ORGANIZATION).")
    var userOrganization = env("USER_ORGANIZATION") ?? "toolforge-users"
    @Option(help: "YAML file of tool: [members] (LOGS_GATEWAY_MEMBERS_FILE), re-read when it changes.")
    var membersFile: String?
    @Option(help: "An operator's user name; repeatable (LOGS_GATEWAY_ADMINS).")
    var admin: [String] = list("ADMINS")
    @Option(help: "A service identity and the path pattern it may write, NAME=REGEX; repeatable (LOGS_GATEWAY_SERVICES).")
    var service: [String] = list("SERVICES")
    @Option(help: "A custom source name only services may write; repeatable (LOGS_GATEWAY_RESERVED_SOURCES).")
    var reservedSource: [String] = list("RESERVED_SOURCES", default: ["jobs-api", "deployments"])
    @Option(help: "Requests a second per identity, with a burst of 5x (LOGS_GATEWAY_RATE_LIMIT).")
    var rateLimit = UInt64(env("RATE_LIMIT") ?? "") ?? 20
    @Option(help: "Open follows per tool (LOGS_GATEWAY_FOLLOWS_PER_TOOL).")
    var followsPerTool = Int(env("FOLLOWS_PER_TOOL") ?? "") ?? 20
    @Option(help: "Threads that merge and encode the pages of big reads, in turns by tool (LOGS_GATEWAY_MERGE_THREADS).")
    var mergeThreads = env("MERGE_THREADS") ?? "2"
    @Option(help: "How often the index asks each agent what changed (LOGS_GATEWAY_INDEX_INTERVAL); a read that misses asks at once.")
    var indexInterval = env("INDEX_INTERVAL") ?? "2s"
    @Option(help: "Heartbeat interval of follows (LOGS_GATEWAY_HEARTBEAT).")
    var heartbeat = env("HEARTBEAT") ?? "15s"
    @Option(help: "The OpenAPI spec served at /openapi.json (LOGS_GATEWAY_SPEC).")
    var spec = env("SPEC") ?? "openapi/openapi.yaml"

    static func env(_ name: String) -> String? { ProcessInfo.processInfo.environment["LOGS_GATEWAY_" + name] }
    static func list(_ name: String, default fallback: [String] = []) -> [String] {
        env(name).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? fallback
    }

    /// `HOST:PORT` (the last colon splits, so an IPv6 host may hold colons); port 0 (any free
    /// port) only where `allowsAnyPort`.
    static func hostAndPort(_ text: String, flag: String, allowsAnyPort: Bool = false) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), colon > text.startIndex, let port = Int(text[text.index(after: colon)...]),
              ((allowsAnyPort ? 0 : 1)...65535).contains(port) else {
            throw ValidationError("\(flag): expected HOST:PORT, not \(text)")
        }
        return (String(text[..<colon]), port)
    }

    func discovery() throws -> AgentDiscovery {
        if !agentsDns.isEmpty {
            guard agent.isEmpty else { throw ValidationError("--agent and --agents-dns exclude each other") }
            let (host, port) = try Self.hostAndPort(agentsDns, flag: "--agents-dns")
            return .dns(host: host, port: port)
        }
        let agents = try agent.map { text -> AgentEndpoint in
            let pair = text.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, !pair[0].isEmpty, pair[1].hasPrefix("http") else { throw ValidationError("--agent: expected NODE=URL, not \(text)") }
            return AgentEndpoint(node: String(pair[0]), url: String(pair[1]))
        }
        guard !agents.isEmpty else { throw ValidationError("at least one --agent NODE=URL, or --agents-dns HOST:PORT, is needed") }
        return .fixed(agents)
    }

    func authentication() throws -> Authentication {
        switch auth {
        case "proxy":
            return .proxy(trustedProxies: try trustedProxy.map { text -> CIDR in
                guard let cidr = CIDR(text) else { throw ValidationError("--trusted-proxy: not an address range: \(text)") }
                return cidr
            })
        case "mtls":
            // Options without a default fall back to the environment here (an optional @Option
            // cannot take one from it at its declaration).
            guard let tlsCert = tlsCert ?? Self.env("TLS_CERT"), let tlsKey = tlsKey ?? Self.env("TLS_KEY"),
                  let clientCA = clientCA ?? Self.env("CLIENT_CA") else { throw ValidationError("--auth mtls needs --tls-cert, --tls-key and --client-ca") }
            for (flag, path) in [("--tls-cert", tlsCert), ("--tls-key", tlsKey), ("--client-ca", clientCA)]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(flag): cannot read \(path)")
            }
            guard trustedProxy.isEmpty else { throw ValidationError("--trusted-proxy is for --auth proxy; with mtls identity headers are never believed") }
            return .mutualTLS(MutualTLSFiles(certificate: tlsCert, key: tlsKey, clientCA: clientCA))
        default:
            throw ValidationError("--auth: expected proxy or mtls, not \(auth)")
        }
    }

    func run() async throws {
        let logger = Logger(label: "logs-gateway")
        let (host, port) = try Self.hostAndPort(listen, flag: "--listen", allowsAnyPort: true)
        let agents = try discovery()
        let authentication = try authentication()
        let services = try Dictionary(service.map { text -> (String, String) in
            let pair = text.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, (try? NSRegularExpression(pattern: String(pair[1]))) != nil else {
                throw ValidationError("--service: expected NAME=REGEX, not \(text)")
            }
            return (String(pair[0]), String(pair[1]))
        }, uniquingKeysWith: { $1 })
        let (agentTokenFile, membersFile) = (agentTokenFile ?? Self.env("AGENT_TOKEN_FILE"), membersFile ?? Self.env("MEMBERS_FILE"))
        let token: String?
        do {
            token = try agentTokenFile.map { try SecretFile.read($0, flag: "--agent-token-file") }
        } catch {
            throw ValidationError("\(error)")
        }
        guard let nanos = TimeSpec.duration(heartbeat), nanos > 0 else { throw ValidationError("--heartbeat: expected a duration such as 15s") }
        guard let interval = TimeSpec.duration(indexInterval), interval > 0 else {
            throw ValidationError("--index-interval: expected a duration such as 2s")
        }
        guard let threads = Int(mergeThreads), (1...256).contains(threads) else {
            throw ValidationError("--merge-threads: expected a number of threads from 1 to 256, not \(mergeThreads)")
        }
        let configuration = GatewayConfiguration(
            host: host, port: port, agents: agents, agentToken: token, authentication: authentication,
            organizations: SubjectOrganizations(tool: toolOrganization, user: userOrganization),
            access: AccessPolicy(members: Members(path: membersFile), admins: Set(admin), services: services,
                                 reservedSources: Set(reservedSource)),
            limits: GatewayLimits(requestsPerSecond: rateLimit, burst: rateLimit * 5, followsPerTool: followsPerTool),
            heartbeat: .nanoseconds(nanos), indexInterval: .nanoseconds(interval), mergeThreads: threads, specPath: FileManager.default.fileExists(atPath: spec) ? spec : nil)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let app = try LogsGateway.buildApplication(configuration, registry: registry, logger: logger) { port in
            logger.info("logs-gateway ready", metadata: ["listen": "\(host):\(port)"])
            FileHandle.standardOutput.write(Data("logs-gateway ready on \(host):\(port)\n".utf8))
        }
        try await LogsGateway.run(app, logger: logger)
    }
}
