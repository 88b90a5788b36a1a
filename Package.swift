// swift-tools-version:6.0
import PackageDescription

/// What the router tests of both servers import besides their server: checked by scripts/check-imports.
let routerTestModules: [Target.Dependency] = [
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "Prometheus", package: "swift-prometheus"),
]

let package = Package(
    name: "toolforge-logs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RingStore", targets: ["RingStore"]),
        .executable(name: "ringctl", targets: ["ringctl"]),
        .executable(name: "logs-agent", targets: ["logs-agent"]),
        .executable(name: "logs-gateway", targets: ["logs-gateway"]),
        .executable(name: "toolforge-logs", targets: ["toolforge-logs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // Hardware CRC-32C (SSE 4.2) with a portable fallback: the checksum of every record.
        .target(name: "CRC32C", path: "Sources/CRC32C"),
        // libzstd: the codec of a ring's sealed blocks.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // Both servers' way of noticing a client that went away.
        .target(name: "ClientConnections", dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                                                          .product(name: "HummingbirdCore", package: "hummingbird"),
                                                          .product(name: "NIOCore", package: "swift-nio")]),
        // fallocate(PUNCH_HOLE), which Swift's Glibc module leaves out: finished rings give back their staging.
        .target(name: "CRingIO", path: "Sources/CRingIO"),
        .target(name: "RingStore", dependencies: ["CRC32C", "CZstd", "CRingIO"]),
        // libsystemd: readiness and watchdog (sd_notify), and the journal (sd_journal).
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "SystemdSupport", dependencies: ["CSystemd"]),
        // What agent, gateway and CLI all say the same way: log items, RFC 3339 times, durations.
        .target(name: "LogModel"),
        // The JSON envelope of every answer and every failure, for the agent and the gateway alike.
        .target(name: "HTTPEnvelope", dependencies: ["LogModel", .product(name: "Hummingbird", package: "hummingbird")]),
        // The agent's internal API, one contract for both sides: its paths, wire types, read
        // query and item lines, and the gateway's typed client.
        .target(
            name: "AgentWire",
            dependencies: [
                "LogModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Blocking work off the shared threads, in turns by tool; reads per tool at once.
        .target(
            name: "FairShare",
            dependencies: [
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "NodeAgent",
            dependencies: [
                "RingStore", "LogModel", "AgentWire", "HTTPEnvelope", "SystemdSupport", "FairShare", "ClientConnections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The public API: generated from openapi/openapi.yaml (linked into the target) at build time.
        .target(
            name: "Gateway",
            dependencies: [
                "LogModel", "AgentWire", "HTTPEnvelope", "CMalloc", "ClientConnections", "FairShare",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "logs-gateway",
            dependencies: [
                "Gateway", "LogModel", "AgentWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // libcurl: typed wrappers over its variadic setopt, which Swift cannot call.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // The public API's types for the CLI, generated from openapi/openapi.yaml at build time;
        // its warnings are the generator's, silenced here alone (see LogsAPITypes.swift).
        .target(
            name: "LogsAPITypes",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            swiftSettings: [.unsafeFlags(["-suppress-warnings"])],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The CLI's workings: the HTTP transfer, configuration, output.
        .target(
            name: "LogsCLI",
            dependencies: [
                "CCurl", "LogModel", "LogsAPITypes",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "toolforge-logs",
            dependencies: ["LogsCLI", "LogsAPITypes", "LogModel", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "logs-agent",
            dependencies: [
                "NodeAgent", "RingStore", "LogModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "ringctl",
            dependencies: ["RingStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "ringstore-bench", dependencies: ["RingStore"], path: "bench/ringstore"),
        .executableTarget(name: "fuzz-ring-open", dependencies: ["RingStore"], path: "fuzz/ring-open"),
        // ringctl writes the files that the crash test kills it over.
        .testTarget(name: "RingStoreTests", dependencies: ["RingStore", "ringctl", "TestSupport"]),
        .testTarget(name: "LogModelTests", dependencies: ["LogModel"]),
        .testTarget(name: "FairShareTests", dependencies: ["FairShare"]),
        .testTarget(name: "AgentWireTests", dependencies: ["AgentWire", "LogModel", "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
                                                         .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "HTTPEnvelopeTests", dependencies: ["HTTPEnvelope", "LogModel",
                                                              .product(name: "Hummingbird", package: "hummingbird"),
                                                              .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "SystemdSupportTests", dependencies: ["SystemdSupport", "TestSupport"]),
        // What the integration tests share: a kubelet-like pod log writer, a process launcher.
        .target(
            name: "TestSupport",
            dependencies: ["LogModel", "AgentWire", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        // The router tests drive the servers' routers in process: the web framework's types and
        // the metrics registry appear in them; the end-to-end tests run the built executables.
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "AgentWire", "LogModel", "RingStore", "SystemdSupport", "TestSupport",
                                                           "logs-agent", .product(name: "HummingbirdTesting", package: "hummingbird")] + routerTestModules),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "AgentWire", "LogModel", "TestSupport", "logs-gateway", "logs-agent", "toolforge-logs",
                                                          .product(name: "HummingbirdTesting", package: "hummingbird")] + routerTestModules),
        .testTarget(name: "LogsCLITests", dependencies: ["LogsCLI", "LogsAPITypes", "LogModel", "TestSupport"]),
    ]
)
