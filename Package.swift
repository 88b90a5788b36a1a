// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "toolforge-logs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RingStore", targets: ["RingStore"]),
        .executable(name: "ringctl", targets: ["ringctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Hardware CRC-32C (SSE 4.2) with a portable fallback: the checksum of every record.
        .target(name: "CRC32C", path: "Sources/CRC32C"),
        .target(name: "RingStore", dependencies: ["CRC32C"]),
        .executableTarget(
            name: "ringctl",
            dependencies: ["RingStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "ringstore-bench", dependencies: ["RingStore"], path: "bench/ringstore"),
        .executableTarget(name: "fuzz-ring-open", dependencies: ["RingStore"], path: "fuzz/ring-open"),
        // ringctl writes the files that the crash test kills it over.
        .testTarget(name: "RingStoreTests", dependencies: ["RingStore", "ringctl"]),
    ]
)
