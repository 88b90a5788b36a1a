import AsyncHTTPClient
import Foundation
import LogModel
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// How to reach the Kubernetes API: in a pod, the service account's token and CA.
public struct KubeAPIConfiguration: Sendable {
    public var url: String
    public var tokenFile: String
    public var caFile: String?

    public init(url: String, tokenFile: String = "/var/run/secrets/kubernetes.io/serviceaccount/token",
                caFile: String? = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") {
        self.url = url
        self.tokenFile = tokenFile
        self.caFile = caFile
    }
}

/// The pods of this node from the Kubernetes API: a list, then a watch from the list's
/// `resourceVersion` (`fieldSelector=spec.nodeName=<node>`), listing again whenever the watch
/// ends or its version expired. The token is read again at every (re)connect, since projected
/// service account tokens rotate.
final class KubePodWatcher: PodSource, Service {
    private struct State {
        var pods: [String: Pod] = [:]
        var version: UInt64 = 0
        var seen: UInt64 = 0
        var lastError: String?
    }

    private let configuration: KubeAPIConfiguration
    private let node: String
    private let logger: Logger
    private let state = Mutex(State())
    private let client: HTTPClient

    init(configuration: KubeAPIConfiguration, node: String, logger: Logger) throws {
        self.configuration = configuration
        self.node = node
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile, FileManager.default.fileExists(atPath: caFile) {
            tls.trustRoots = .file(caFile)
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    deinit { try? client.syncShutdown() }

    func refresh() -> Bool {
        state.withLock { state in
            defer { state.seen = state.version }
            return state.version != state.seen
        }
    }

    var pods: [String: Pod] { state.withLock { $0.pods } }
    var lastError: String? { state.withLock { $0.lastError } }

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await self.listAndWatch() }
            } catch {
                if Task.isShuttingDownGracefully { break }
                state.withLock { $0.lastError = "\(configuration.url): \(error)" }
                logger.warning("pod watch failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
    }

    private var selector: String { "fieldSelector=spec.nodeName%3D\(node)" }

    private func request(_ query: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "\(configuration.url)/api/v1/pods?\(selector)\(query)")
        let token = try SecretFile.read(configuration.tokenFile, flag: "--kube-token-file")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        return request
    }

    private struct PodListPage: Decodable {
        struct Metadata: Decodable { var resourceVersion: String? }
        var metadata: Metadata?
        var items: [Pod]
    }

    private struct WatchEvent: Decodable {
        var type: String
        var object: Pod?
    }

    private func listAndWatch() async throws {
        let list = try await client.execute(request(""), timeout: .seconds(30))
        guard list.status == .ok else { throw KubeAPIError.status(Int(list.status.code), "list") }
        let page = try JSONDecoder().decode(PodListPage.self, from: Data(buffer: try await list.body.collect(upTo: 256 << 20)))
        publish { $0 = Dictionary(page.items.map { ($0.metadata.uid, $0) }, uniquingKeysWith: { $1 }) }
        let version = page.metadata?.resourceVersion ?? ""
        let watch = try await client.execute(request("&watch=1&allowWatchBookmarks=true&resourceVersion=\(version)"),
                                             timeout: .hours(24))
        guard watch.status == .ok else { throw KubeAPIError.status(Int(watch.status.code), "watch") }
        var pending: [UInt8] = []
        for try await chunk in watch.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<newline]
                defer { pending.removeSubrange(...newline) }
                guard let event = try? JSONDecoder().decode(WatchEvent.self, from: Data(line)) else { continue }
                switch event.type {
                case "ADDED", "MODIFIED":
                    if let pod = event.object { publish { $0[pod.metadata.uid] = pod } }
                case "DELETED":
                    if let pod = event.object { publish { $0[pod.metadata.uid] = nil } }
                case "ERROR":
                    return  // typically 410 Gone: the version expired; list again
                default:
                    continue  // BOOKMARK
                }
            }
        }
    }

    private func publish(_ change: (inout [String: Pod]) -> Void) {
        state.withLock { state in
            change(&state.pods)
            state.version += 1
            state.lastError = nil
        }
    }
}

enum KubeAPIError: Error, CustomStringConvertible {
    case status(Int, String)

    var description: String {
        switch self {
        case let .status(code, what): "the Kubernetes API answered \(code) to the pod \(what)"
        }
    }
}
