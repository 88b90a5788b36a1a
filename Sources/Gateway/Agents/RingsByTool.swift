import AgentWire
import LogModel

/// One agent's rings, by tool: a request reads the rings of its tool, never the node's whole
/// inventory (a gateway indexes every ring of the platform; a scan per read was 10 ms at
/// 100,000 rings, see docs/scaling.md).
struct RingsByTool {
    private var byTool: [String: [String: AgentRing]] = [:]
    private var toolOf: [String: String] = [:]

    var count: Int { toolOf.count }

    /// A view, not a copy: a job that keeps 20,000 runs is 20,000 rows, and a read of one run
    /// only filters them.
    func rings(of tool: String) -> [String: AgentRing].Values { (byTool[tool] ?? [:]).values }

    mutating func insert(_ ring: AgentRing) {
        if let previous = toolOf.updateValue(ring.tool, forKey: ring.id), previous != ring.tool {
            forget(ring.id, of: previous)
        }
        byTool[ring.tool, default: [:]][ring.id] = ring
    }

    mutating func remove(id: String) {
        guard let tool = toolOf.removeValue(forKey: id) else { return }
        forget(id, of: tool)
    }

    private mutating func forget(_ id: String, of tool: String) {
        byTool[tool]?[id] = nil
        if byTool[tool]?.isEmpty == true { byTool[tool] = nil }
    }
}
