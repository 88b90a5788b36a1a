import AgentWire
import Foundation
import Hummingbird
import LogModel
import Synchronization
import Testing
import TestSupport

/// The agent learns pods from the Kubernetes API: it lists, then watches, with the service
/// account's token, only for its own node. A small API server in the test stands for the
/// cluster's (the one external part of this test).
@Suite(.timeLimit(.minutes(3))) struct KubeWatchTests {
    @Test func watchedPodsGiveRingsTheirMetadata() async throws {
        let scratch = Scratch("kube")
        let pods = scratch.file("pods")
        try FileManager.default.createDirectory(atPath: pods, withIntermediateDirectories: true)
        try "kube-token".replace(file: scratch.file("kube-token"))
        let api = FakeKubeAPI(node: "node-7", token: "kube-token")
        let port = try await api.start()
        defer { api.stop() }

        let log = try PodLogWriter(podsDirectory: pods, namespace: "tool-demo", pod: "nightly-29000000-abcde", container: "job")
        try log.write("report starts")
        let agent = ServiceProcess(
            executable: ServiceProcess.product("logs-agent"),
            arguments: ["--node", "node-7", "--pods-dir", pods, "--data-dir", scratch.file("data"), "--listen", "127.0.0.1:0",
                        "--insecure-no-auth", "--rescan", "1s", "--kube-api", "http://127.0.0.1:\(port)",
                        "--kube-token-file", scratch.file("kube-token"), "--kube-ca-file", scratch.file("none")],
            logPath: scratch.file("agent.log"))
        try agent.start()
        defer { agent.kill() }
        let base = "http://127.0.0.1:\(agent.port)" + AgentRoutes.rings
        let first = try await eventually("the ring") {
            try await TestHTTP.request(base).json(AgentInventory.self).rings.first { $0.pod == log.pod }
        }
        #expect(first.kind == .continuous)
        try await waitUntil("the watch to connect") { api.watchers > 0 }

        api.send(event: "ADDED", pod: """
        {"metadata": {"name": "\(log.pod)", "namespace": "tool-demo", "uid": "\(log.uid)",
          "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "nightly"},
          "ownerReferences": [{"kind": "Job", "name": "nightly-29000000"}]},
         "spec": {"nodeName": "node-7"}, "status": {}}
        """)
        let updated = try await eventually("metadata from the watch") {
            try await TestHTTP.request(base).json(AgentInventory.self).rings.first { $0.id == first.id && $0.kind == .scheduled }
        }
        #expect(updated.name == "nightly")
        #expect(updated.run == "nightly-29000000")
        #expect(api.requests.allSatisfy { $0.contains("fieldSelector=spec.nodeName%3Dnode-7") || $0.contains("fieldSelector=spec.nodeName=node-7") })
        #expect(api.deniedRequests == 0)
    }
}

/// Just enough of the Kubernetes API for the pod watch: `GET /api/v1/pods` as a list, and with
/// `watch=1` as a stream of events the test sends.
final class FakeKubeAPI: Sendable {
    let node: String
    let token: String
    private let state = Mutex((requests: [String](), denied: 0, streams: [AsyncStream<ByteBuffer>.Continuation]()))
    private let task = Mutex<Task<Void, Error>?>(nil)

    init(node: String, token: String) {
        self.node = node
        self.token = token
    }

    var requests: [String] { state.withLock { $0.requests } }
    var deniedRequests: Int { state.withLock { $0.denied } }
    var watchers: Int { state.withLock { $0.streams.count } }

    func send(event type: String, pod: String) {
        let line = "{\"type\": \"\(type)\", \"object\": \(pod.replacingOccurrences(of: "\n", with: " "))}\n"
        for stream in state.withLock({ $0.streams }) { stream.yield(ByteBuffer(string: line)) }
    }

    func start() async throws -> Int {
        let router = Router()
        router.get("api/v1/pods") { request, _ -> Response in
            self.state.withLock { $0.requests.append(request.uri.description) }
            guard request.headers[.authorization] == "Bearer \(self.token)" else {
                self.state.withLock { $0.denied += 1 }
                return Response(status: .unauthorized)
            }
            if request.uri.queryParameters["watch"] == "1" {
                let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
                self.state.withLock { $0.streams.append(continuation) }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(asyncSequence: stream))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": []}"#)))
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) })
        task.withLock { $0 = Task { try await app.run() } }
        for await port in ports { return port }
        throw Timeout(what: "the fake API server")
    }

    func stop() {
        state.withLock { state in state.streams.forEach { $0.finish() } }
        task.withLock { $0?.cancel() }
    }
}
