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
/// `resourceVersion` (`fieldSelector=spec.nodeName=<node>`, with bookmarks), watched again
/// from the newest version seen when the server ends it, listed again only after an `ERROR`
/// event (`410 Gone`: that version expired), a line it could not read, or a failed request. The
/// token is read again at every (re)connect, since projected service account tokens rotate.
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
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
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

    /// A watch line's type, read first: the object's shape depends on it.
    private struct WatchType: Decodable { var type: String }
    private struct PodEvent: Decodable { var object: Pod }
    /// Any object's version: a bookmark carries nothing else, and every pod event has one.
    private struct VersionEvent: Decodable {
        struct Object: Decodable {
            struct Metadata: Decodable { var resourceVersion: String? }
            var metadata: Metadata?
        }
        var object: Object?
    }
    private struct ErrorEvent: Decodable { var object: KubeStatus }

    /// How a watch ended.
    private enum WatchEnd {
        /// The server closed it (its timeout): watch again from the last version seen.
        case closed(version: String)
        /// An `ERROR` event (`410 Gone`: that version is too old to watch from; or any other),
        /// or a line that could not be read (a pod change was missed): list again, as client-go
        /// does.
        case mustList(why: String)
    }

    /// A list, then watches from the newest version seen for as long as they end cleanly; a
    /// new list only when a watch says it must (a relist of a busy node's pods is the
    /// expensive part, which bookmarks exist to spare).
    private func listAndWatch() async throws {
        var version = try await list()
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            switch try await watch(from: version) {
            case let .closed(last):
                version = last
            case let .mustList(why):
                logger.info("listing the node's pods again", metadata: ["why": "\(why)"])
                version = try await list()
            }
            // A server that ends watches at once is not to be asked again in a loop.
            if ContinuousClock.now - started < .seconds(1) { try await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Replaces the pods with a list's; returns its version.
    private func list() async throws -> String {
        let list = try await client.execute(request(""), timeout: .seconds(30))
        guard list.status == .ok else { throw KubeAPIError.status(Int(list.status.code), "list") }
        let page = try JSONDecoder().decode(PodListPage.self, from: Data(buffer: try await list.body.collect(upTo: 256 << 20)))
        publish { $0 = Dictionary(page.items.map { ($0.metadata.uid, $0) }, uniquingKeysWith: { $1 }) }
        return page.metadata?.resourceVersion ?? ""
    }

    private func watch(from version: String) async throws -> WatchEnd {
        let watch = try await client.execute(request("&watch=1&allowWatchBookmarks=true&resourceVersion=\(version)"),
                                             timeout: .hours(24))
        guard watch.status == .ok else { throw KubeAPIError.status(Int(watch.status.code), "watch") }
        var last = version
        var pending: [UInt8] = []
        for try await chunk in watch.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                do {
                    if let end = try handle(line, version: &last) { return end }
                } catch {
                    AgentFailure.podWatchEvent.record(error, logger: logger, ["line": "\(String(decoding: line.prefix(200), as: UTF8.self))"])
                    return .mustList(why: "a watch line could not be read")
                }
            }
        }
        return .closed(version: last)
    }

    /// Applies one watch line; returns how the watch ended if the line ends it.
    private func handle(_ line: Data, version: inout String) throws -> WatchEnd? {
        let decoder = JSONDecoder()
        let type = try decoder.decode(WatchType.self, from: line).type
        switch type {
        case "ADDED", "MODIFIED", "DELETED":
            let pod = try decoder.decode(PodEvent.self, from: line).object
            publish { $0[pod.metadata.uid] = type == "DELETED" ? nil : pod }
        case "BOOKMARK":
            break
        case "ERROR":
            return .mustList(why: "\(KubeAPIError.watchError(try decoder.decode(ErrorEvent.self, from: line).object))")
        default:
            throw KubeAPIError.unknownEvent(type)
        }
        if let next = try decoder.decode(VersionEvent.self, from: line).object?.metadata?.resourceVersion { version = next }
        return nil
    }

    private func publish(_ change: (inout [String: Pod]) -> Void) {
        state.withLock { state in
            change(&state.pods)
            state.version += 1
            state.lastError = nil
        }
    }
}

/// The API's `Status` object, which an `ERROR` watch event carries.
struct KubeStatus: Decodable, Sendable {
    var code: Int?
    var reason: String?
    var message: String?
}

enum KubeAPIError: Error, CustomStringConvertible {
    case status(Int, String)
    case watchError(KubeStatus)
    case unknownEvent(String)

    var description: String {
        switch self {
        case let .status(code, what): "the Kubernetes API answered \(code) to the pod \(what)"
        case let .watchError(status):
            "the pod watch failed: \(status.code.map(String.init) ?? "?") \(status.reason ?? "") \(status.message ?? "")"
        case let .unknownEvent(type): "a pod watch event of unknown type \(type)"
        }
    }
}
