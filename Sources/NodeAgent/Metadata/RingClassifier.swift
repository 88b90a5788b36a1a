import LogModel
import RingStore

/// Decides what a container's ring holds (tool, kind, name, run) from its pod, the way the
/// platform labels its objects; from the log file's path alone until the pod is known.
struct RingClassifier: Sendable {
    var node: String
    /// The namespace builds run in; their pods name the tool in the `user` label.
    var buildNamespace = "image-build"
    var toolNamespacePrefix = "tool-"

    /// The tool a namespace belongs to; nil for namespaces that are not ours to ingest.
    func tool(namespace: String, labels: [String: String]?) -> String? {
        if namespace == buildNamespace { return labels?["user"] }
        guard namespace.hasPrefix(toolNamespacePrefix), namespace.count > toolNamespacePrefix.count else { return nil }
        return String(namespace.dropFirst(toolNamespacePrefix.count))
    }

    /// Whether a pod directory may hold logs we ingest (the build namespace's pods are checked
    /// again once their labels are known).
    func isCandidate(namespace: String) -> Bool {
        namespace == buildNamespace || tool(namespace: namespace, labels: nil) != nil
    }

    func metadata(for key: ContainerKey, pod: Pod?) -> RingMetadata? {
        let labels = pod?.metadata.labels
        guard let tool = tool(namespace: key.namespace, labels: labels) else { return nil }
        var metadata = RingMetadata(tool: tool, kind: .continuous, name: key.pod, run: key.pod, segment: key.restart,
                                    namespace: key.namespace, pod: key.pod, container: key.container, node: node,
                                    extra: ["podUID": key.podUID])
        metadata.origin = .container(key: key.description)
        if key.namespace == buildNamespace {
            let build = labels?["tekton.dev/pipelineRun"] ?? key.pod
            metadata.kind = .build
            metadata.name = build
            metadata.run = build
        } else if let labels {
            switch labels["app.kubernetes.io/component"] {
            case "cronjobs": metadata.kind = .scheduled
            case "jobs": metadata.kind = .oneoff
            case "web": metadata.kind = .webservice
            default: metadata.kind = .continuous
            }
            metadata.name = metadata.kind == .webservice ? tool : labels["app.kubernetes.io/name"] ?? key.pod
            if metadata.kind == .scheduled || metadata.kind == .oneoff,
               let job = pod?.metadata.ownerReferences?.first(where: { $0.kind == "Job" }) {
                metadata.run = job.name
            }
        }
        if let pod {
            metadata.image = pod.spec?.containers?.first(where: { $0.name == key.container })?.image
            let state = pod.state(of: key.container, restart: key.restart)
            metadata.startedAt = (state?.running?.startedAt ?? state?.terminated?.startedAt).flatMap(NanoTime.parse)
            if let terminated = state?.terminated {
                metadata.finishedAt = terminated.finishedAt.flatMap(NanoTime.parse)
                metadata.exitCode = terminated.exitCode
                metadata.reason = terminated.reason
            }
        }
        return metadata
    }
}

