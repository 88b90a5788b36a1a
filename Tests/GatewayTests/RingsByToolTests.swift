import AgentWire
import LogModel
import Testing
@testable import Gateway

/// The gateway's per-agent index: a tool's lookup sees its rings only, across inserts,
/// updates and removals from inventory deltas.
@Suite(.timeLimit(.minutes(3))) struct RingsByToolTests {
    func ring(_ id: String, tool: String, state: AgentRing.State = .live) -> AgentRing {
        AgentRing(id: id, node: "node-1", tool: tool, kind: .continuous, name: "job", run: "r", segment: 0,
                  namespace: nil, pod: nil, container: nil, image: nil, startedAt: nil, finishedAt: nil, exitCode: nil,
                  reason: nil, state: state, diskBytes: 0, prefixCapacity: 0, suffixCapacity: 0, recordsWritten: 0,
                  bytesWritten: 0, rolledRecords: 0, rolledBytes: 0, droppedRecords: 0, droppedBytes: 0,
                  truncatedRecords: 0, firstSeq: 0, endSeq: 0, firstTime: nil, lastTime: nil)
    }

    @Test func looksUpOneToolAndFollowsDeltas() {
        var index = RingsByTool()
        index.insert(ring("a1", tool: "alpha"))
        index.insert(ring("a2", tool: "alpha"))
        index.insert(ring("b1", tool: "beta"))
        #expect(Set(index.rings(of: "alpha").map(\.id)) == ["a1", "a2"])
        #expect(index.rings(of: "beta").map(\.id) == ["b1"])
        #expect(index.rings(of: "gamma").isEmpty)

        index.insert(ring("a1", tool: "alpha", state: .finished))
        #expect(index.rings(of: "alpha").first { $0.id == "a1" }?.state == .finished)
        #expect(index.count == 3)

        index.remove(id: "b1")
        index.remove(id: "unknown")
        #expect(index.rings(of: "beta").isEmpty)
        #expect(index.count == 2)
    }
}
