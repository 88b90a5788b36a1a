/// Where the agent learns about the pods on its node: a PodList file, or the Kubernetes API.
/// The ingest thread asks `refresh()` each turn and reads `pods` (by uid).
protocol PodSource: AnyObject, Sendable {
    /// Takes in what changed since the last call; true if the pods changed.
    func refresh() -> Bool
    var pods: [String: Pod] { get }
    /// The last problem reading the source, for health and stats.
    var lastError: String? { get }
}
