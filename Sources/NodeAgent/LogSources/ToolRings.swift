import AgentWire
import Foundation
import LogModel
import RingStore
import Synchronization

/// The rings that are not a container's: a tool's custom sources (lines pushed through the API)
/// and its activity on this node. One live ring each, found again after a restart.
final class ToolRings: Sendable {
    let store: RingDirectory
    let node: String
    let capacities: RingCapacities
    let inventory: Inventory
    /// The live ring of each (tool, kind, name) found or created so far: a node with thousands
    /// of rings records an activity event per container start, and must not search them all.
    private let live = Mutex<[Key: Ring]>([:])

    private struct Key: Hashable {
        var tool: String
        var kind: RingKind
        var name: String
    }

    init(store: RingDirectory, node: String, capacities: RingCapacities, inventory: Inventory) {
        self.store = store
        self.node = node
        self.capacities = capacities
        self.inventory = inventory
    }

    func ring(tool: String, kind: RingKind, name: String) throws -> Ring {
        try live.withLock { live in
            let key = Key(tool: tool, kind: kind, name: name)
            if let ring = live[key], !ring.isDeleted, !ring.isFinished { return ring }
            let ring = try store.rings(matching: RingFilter(tool: tool, kind: kind, name: name, finished: false)).first ?? {
                let metadata = RingMetadata(tool: tool, kind: kind, name: name, run: kind == .activity ? node : name,
                                            node: node, startedAt: NanoTime.now())
                return try store.create(metadata: metadata, prefixCapacity: capacities.prefix,
                                        suffixCapacity: capacities.suffix, now: NanoTime.now())
            }()
            live[key] = ring
            return ring
        }
    }

    /// Appends pushed lines (JSON objects with `message`, optional `datetime`, any other fields)
    /// to the tool's custom source, each stored as received.
    func push(tool: String, source: String, lines: [[String: JSONValue]], now: Int64) throws -> Int {
        let ring = try ring(tool: tool, kind: .custom, name: source)
        // A line is stamped with its own time when it gives one (an event says when it happened),
        // unless that is ahead of this node's clock by more than a skew: the ring keeps its times
        // in order (one earlier than the last takes the last's), so one far ahead would hold
        // every later line at its time.
        try ring.append(lines.map { line in
            var time = if case let .string(text)? = line["datetime"] { NanoTime.parse(text) ?? now } else { now }
            if time > now + PushedLines.maxSkew { time = now }
            return .line(timestamp: time, stream: .stdout, flags: [], payload: Self.encode(line))
        })
        inventory.touch(ring.id)
        return lines.count
    }

    /// Appends events to their tools' activity rings on this node, in the order they happened:
    /// the agent learns of several at once (at start, the runs that ended while it was away), and
    /// a ring keeps its times in order (one earlier than the last takes the last's), so each
    /// event also carries its own `time`, which reads show.
    func record(_ events: [ActivityEvent]) throws {
        for event in events.sorted(by: { $0.time < $1.time }) {
            let ring = try ring(tool: event.tool, kind: .activity, name: "activity")
            try ring.append([.line(timestamp: event.time, stream: .stdout, flags: [], payload: event.payload)])
            inventory.touch(ring.id)
        }
    }

    static func encode(_ object: [String: JSONValue]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? [UInt8](encoder.encode(object))) ?? []
    }
}

/// Prefix and suffix sizes for new rings.
public struct RingCapacities: Sendable {
    public var prefix: UInt64
    public var suffix: UInt64

    public init(prefix: UInt64, suffix: UInt64) {
        self.prefix = prefix
        self.suffix = suffix
    }
}
