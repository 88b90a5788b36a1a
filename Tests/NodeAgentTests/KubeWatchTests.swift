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
    /// An agent of node-7 on the fake API, over a pods directory.
    func agent(_ scratch: Scratch, api port: Int) throws -> ServiceProcess {
        try FileManager.default.createDirectory(atPath: scratch.file("pods"), withIntermediateDirectories: true)
        try "kube-token".replace(file: scratch.file("kube-token"))
        let agent = ServiceProcess(
            executable: ServiceProcess.product("logs-agent"),
            arguments: ["--node", "node-7", "--pods-dir", scratch.file("pods"), "--data-dir", scratch.file("data"), "--listen", "127.0.0.1:0",
                        "--insecure-no-auth", "--rescan", "1s", "--kube-api", "http://127.0.0.1:\(port)",
                        "--kube-token-file", scratch.file("kube-token"), "--kube-ca-file", scratch.file("none")],
            logPath: scratch.file("agent.log"))
        try agent.start()
        return agent
    }

    @Test func watchedPodsGiveRingsTheirMetadata() async throws {
        let scratch = Scratch("kube")
        let api = FakeKubeAPI(node: "node-7", token: "kube-token")
        let port = try await api.start()
        defer { api.stop() }
        let log = try PodLogWriter(podsDirectory: scratch.file("pods"), namespace: "tool-demo", pod: "nightly-29000000-abcde", container: "job")
        try log.write("report starts")
        let agent = try agent(scratch, api: port)
        defer { agent.kill() }
        let base = "http://127.0.0.1:\(agent.port)" + AgentRoutes.rings
        let first = try await eventually("the ring") {
            try await TestHTTP.request(base).json(AgentInventory.self).rings.first { $0.pod == log.pod }
        }
        #expect(first.kind == .continuous)
        try await waitUntil("the watch to connect") { api.watchers > 0 }

        api.send(event: "ADDED", object: """
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

    /// A watch the server closes is watched again from the newest version it carried (a
    /// bookmark's, without a pod), with no new list; an `ERROR` of 410 Gone lists again.
    @Test func bookmarksSpareAListAndAnExpiredVersionTakesOne() async throws {
        let scratch = Scratch("kube")
        let api = FakeKubeAPI(node: "node-7", token: "kube-token")
        let port = try await api.start()
        defer { api.stop() }
        let agent = try agent(scratch, api: port)
        defer { agent.kill() }
        try await waitUntil("the first watch") { api.watchers == 1 }
        #expect(api.lists == 1)
        #expect(api.requests.last?.contains("resourceVersion=1") == true)

        api.send(event: "BOOKMARK", object: #"{"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "57"}}"#)
        api.endWatches()
        try await waitUntil("a watch again") { api.watchers == 1 }
        #expect(api.requests.last?.contains("watch=1") == true && api.requests.last?.contains("resourceVersion=57") == true,
                "\(api.requests)")
        #expect(api.lists == 1, "a bookmark spares a list")

        api.listVersion = "90"
        api.send(event: "ERROR", object: #"{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired", "message": "too old resource version: 57 (88)"}"#)
        try await waitUntil("a list after the expiry") { api.lists == 2 }
        try await waitUntil("a watch from the new list") { api.requests.last?.contains("resourceVersion=90") == true }
        #expect(!(try String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)).contains("pod-watch-event failed"),
                "every event was read as what it is")

        // Any other error lists again too, and so does a line that cannot be read (a pod change
        // was missed), which is also logged and counted.
        api.send(event: "ERROR", object: #"{"kind": "Status", "status": "Failure", "code": 500, "reason": "InternalError", "message": "etcd"}"#)
        try await waitUntil("a list after the error") { api.lists == 3 }
        try await waitUntil("a watch again") { api.requests.last?.contains("watch=1") == true }
        api.send(event: "MODIFIED", object: #"{"metadata": "not a pod"}"#)
        try await waitUntil("a list after the unreadable line") { api.lists == 4 }
        let log = try String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)
        #expect(log.contains("pod-watch-event failed"))
    }
}

/// Just enough of the Kubernetes API for the pod watch: `GET /api/v1/pods` as a list, and with
/// `watch=1` as a stream of events the test sends.
final class FakeKubeAPI: Sendable {
    let node: String
    let token: String
    private let state = Mutex((requests: [String](), denied: 0, streams: [AsyncStream<ByteBuffer>.Continuation](), listVersion: "1"))
    private let task = Mutex<Task<Void, Error>?>(nil)

    init(node: String, token: String) {
        self.node = node
        self.token = token
    }

    var requests: [String] { state.withLock { $0.requests } }
    var deniedRequests: Int { state.withLock { $0.denied } }
    var watchers: Int { state.withLock { $0.streams.count } }
    var lists: Int { state.withLock { $0.requests.filter { !$0.contains("watch=1") }.count } }
    /// The `resourceVersion` lists answer with.
    var listVersion: String {
        get { state.withLock { $0.listVersion } }
        set { state.withLock { $0.listVersion = newValue } }
    }

    func send(event type: String, object: String) {
        let line = "{\"type\": \"\(type)\", \"object\": \(object.replacingOccurrences(of: "\n", with: " "))}\n"
        for stream in state.withLock({ $0.streams }) { stream.yield(ByteBuffer(string: line)) }
    }

    /// Ends every watch, as the API server does at its timeout.
    func endWatches() {
        let ended = state.withLock { state in
            defer { state.streams = [] }
            return state.streams
        }
        ended.forEach { $0.finish() }
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
            let list = #"{"kind": "PodList", "metadata": {"resourceVersion": "\#(self.listVersion)"}, "items": []}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: list)))
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
