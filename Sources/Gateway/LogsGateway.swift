import AgentWire
import ClientConnections
import FairShare
import Foundation
import HTTPEnvelope
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import LogModel
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import ServiceLifecycle
import Yams

/// Everything the gateway is told at start.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var agents: AgentDiscovery
    public var agentToken: String?
    public var authentication: Authentication
    public var organizations: SubjectOrganizations
    public var access: AccessPolicy
    public var limits: GatewayLimits
    public var heartbeat: Duration
    public var indexInterval: Duration
    /// Threads of the merge pool, where the pages of big reads are merged and encoded.
    public var mergeThreads: Int
    /// The spec served at `/openapi.json`.
    public var specPath: String?

    public init(host: String, port: Int, agents: AgentDiscovery, agentToken: String?, authentication: Authentication,
                organizations: SubjectOrganizations = SubjectOrganizations(), access: AccessPolicy, limits: GatewayLimits = GatewayLimits(), heartbeat: Duration = .seconds(15), indexInterval: Duration = .seconds(2), mergeThreads: Int = 2,
                specPath: String?) {
        self.host = host
        self.port = port
        self.agents = agents
        self.agentToken = agentToken
        self.authentication = authentication
        self.organizations = organizations
        self.access = access
        self.limits = limits
        self.heartbeat = heartbeat
        self.indexInterval = indexInterval
        self.mergeThreads = mergeThreads
        self.specPath = specPath
    }
}

/// The gateway: the public API over the agents. Stateless: the index is rebuilt from the agents.
public enum LogsGateway {
    /// The gateway as an application: its router and the services it needs (the index of the
    /// agents' rings, the client that calls them), not yet running. Metrics go to whatever the
    /// caller bootstrapped; `registry` is what `/v1/metrics` shows.
    public static func buildApplication(_ configuration: GatewayConfiguration, registry: PrometheusCollectorRegistry, logger: Logger,
                                        onReady: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        try buildApplication(configuration, registry: registry, logger: logger, onReady: onReady, identity: nil)
    }

    /// `identity` stands in for the configured authentication: router tests, which have no
    /// connection to take a peer address or a certificate from, say who calls in a header.
    static func buildApplication(_ configuration: GatewayConfiguration, registry: PrometheusCollectorRegistry, logger: Logger,
                                 onReady: @escaping @Sendable (Int) -> Void = { _ in },
                                 identity: (any RouterMiddleware<GatewayRequestContext>)?) throws -> some ApplicationProtocol {
        let client = AgentClient(token: configuration.agentToken)
        let index = AgentIndex(discovery: configuration.agents, client: client, interval: configuration.indexInterval, logger: logger)
        var audit = logger
        audit[metadataKey: "audit"] = "true"
        let pool = FairPool(threads: configuration.mergeThreads, niceness: 10)
        let merged = MergedLogs(client: client, shared: SharedFollows(client: client), heartbeat: configuration.heartbeat, pool: pool)
        let api = GatewayAPI(index: index, client: client, merged: merged,
                             access: configuration.access, registry: registry,
                             follows: FollowSlots(limit: configuration.limits.followsPerTool), audit: audit)
        let router = Router(context: GatewayRequestContext.self)
        let spec = try configuration.specPath.map(specJSON)
        router.add(middleware: EnvelopeMiddleware(translate: ServerErrors.translate))
        router.add(middleware: MetricsMiddleware())
        if let spec, let object = try JSONSerialization.jsonObject(with: Data(spec)) as? [String: Any] {
            router.add(middleware: MethodNotAllowedMiddleware(spec: object))
        }
        router.add(middleware: BodyLimitMiddleware(limit: PushedLines.maxBodyBytes))
        router.add(middleware: UTF8CharsetMiddleware())
        let http1 = ClosingOnClientHalfClose.http1
        var server = HTTPServerBuilder.http1(configuration: http1)
        switch (identity, configuration.authentication) {
        case let (identity?, _):
            func add(_ middleware: some RouterMiddleware<GatewayRequestContext>) { router.add(middleware: middleware) }
            add(identity)
        case let (nil, .proxy(trustedProxies)):
            router.add(middleware: ProxyIdentityMiddleware(trustedProxies: trustedProxies, organizations: configuration.organizations))
        case let (nil, .mutualTLS(files)):
            router.add(middleware: CertificateIdentityMiddleware(organizations: configuration.organizations))
            server = try .tls(.http1(configuration: http1), tlsConfiguration: files.serverConfiguration())
        }
        router.add(middleware: RateLimitMiddleware(limits: configuration.limits))
        router.add(middleware: ClientConnectionMiddleware<GatewayRequestContext>())
        router.get("openapi.json") { _, _ in
            guard let spec else { throw EnvelopeError(.notFound, "the spec was not configured") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: spec)))
        }
        // Compact JSON: pretty printing cost a tenth of a small read's time, for no reader.
        let json = OpenAPIRuntime.Configuration(jsonEncodingOptions: [.sortedKeys])
        try api.registerHandlers(on: router, configuration: json, middlewares: [PreparedJSONMiddleware()])
        // The platform's API gateway strips `/logs` before it passes a request on; standing
        // alone, the gateway answers under it too, so the platform's clients need only its URL.
        try api.registerHandlers(on: router, serverURL: URL(string: "/logs")!, configuration: json, middlewares: [PreparedJSONMiddleware()])
        var app = Application(router: router, server: server,
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "logs-gateway"),
                              services: [Teardown(client: client, pool: pool), index, FreedMemory()],
                              onServerRunning: { channel in onReady(channel.localAddress?.port ?? configuration.port) },
                              logger: logger)
        // The first look at the agents, so that the first reads find their rings.
        app.beforeServerStarts { await index.refresh() }
        return app
    }

    /// Runs the gateway until SIGTERM or SIGINT (metrics go to whatever the caller bootstrapped).
    public static func run(_ application: some ApplicationProtocol, logger: Logger) async throws {
        var group = ServiceGroupConfiguration(services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }

    /// The YAML spec as JSON, once.
    static func specJSON(_ path: String) throws -> [UInt8] {
        let object = try Yams.load(yaml: String(contentsOfFile: path, encoding: .utf8))
        return try Array(JSONSerialization.data(withJSONObject: object as Any, options: [.sortedKeys]))
    }
}

/// Shuts the agent client and the merge pool down once everything that used them has stopped
/// (it is the first service, so the last to stop).
private struct Teardown: Service {
    let client: AgentClient
    let pool: FairPool

    func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
        try? await pool.shutdown()
    }
}

/// Request bodies are collected up to a limit: past it the answer is 413, before any handler runs.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch {
            throw EnvelopeError(.contentTooLarge, "the request body is larger than \(limit) bytes")
        }
        return try await next(request, context)
    }
}

/// Streams of JSON lines say that they are UTF-8: without a charset, Python's `requests`
/// (the platform's clients) may decode them as Latin-1.
struct UTF8CharsetMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentType] == "application/x-ndjson" { response.headers[.contentType] = "application/x-ndjson; charset=utf-8" }
        return response
    }
}
