/// The parts of a Kubernetes Pod that say whose logs a container writes, as in
/// `kubectl get pods -o json` (a PodList) or a watch event's object.
struct PodList: Decodable, Sendable {
    var items: [Pod]
}

struct Pod: Decodable, Sendable, Equatable {
    struct Metadata: Decodable, Sendable, Equatable {
        var name: String
        var namespace: String
        var uid: String
        var labels: [String: String]?
        var ownerReferences: [OwnerReference]?
        var deletionTimestamp: String?
    }

    struct OwnerReference: Decodable, Sendable, Equatable {
        var kind: String
        var name: String
    }

    struct Spec: Decodable, Sendable, Equatable {
        struct Container: Decodable, Sendable, Equatable {
            var name: String
            var image: String?
        }

        var nodeName: String?
        var containers: [Container]?
    }

    struct Status: Decodable, Sendable, Equatable {
        var containerStatuses: [ContainerStatus]?
    }

    struct ContainerStatus: Decodable, Sendable, Equatable {
        var name: String
        var restartCount: Int?
        var image: String?
        var state: ContainerState?
        var lastState: ContainerState?
    }

    struct ContainerState: Decodable, Sendable, Equatable {
        struct Running: Decodable, Sendable, Equatable {
            var startedAt: String?
        }

        struct Terminated: Decodable, Sendable, Equatable {
            var exitCode: Int32
            var reason: String?
            var startedAt: String?
            var finishedAt: String?
        }

        var running: Running?
        var terminated: Terminated?
    }

    var metadata: Metadata
    var spec: Spec?
    var status: Status?

    /// What the pod says about one run segment of a container: the current state for the
    /// current restart count, the last state for the one before, nothing for older ones.
    func state(of container: String, restart: Int) -> ContainerState? {
        guard let status = status?.containerStatuses?.first(where: { $0.name == container }) else { return nil }
        let current = status.restartCount ?? 0
        if restart == current { return status.state }
        if restart == current - 1 { return status.lastState }
        return nil
    }
}
