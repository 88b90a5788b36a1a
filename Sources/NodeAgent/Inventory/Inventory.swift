import RingStore
import Synchronization

/// Versions of what this agent holds, so that the gateway can ask only for what changed since
/// the last version it saw (`since_version`). Versions count from 1 per agent instance; the
/// instance id changes with every start, so a gateway knows when its version no longer applies.
final class Inventory: Sendable {
    let instance: String
    private struct State {
        var version: UInt64 = 1
        var changed: [RingID: UInt64] = [:]
        var removed: [(id: RingID, version: UInt64)] = []
        /// The oldest version a delta can still be computed from.
        var horizon: UInt64 = 0
    }

    private let state = Mutex(State())
    static let maxTombstones = 100_000

    init(instance: String) { self.instance = instance }

    var version: UInt64 { state.withLock { $0.version } }

    func touch(_ id: RingID) {
        state.withLock { state in
            state.version += 1
            state.changed[id] = state.version
        }
    }

    func remove(_ id: RingID) {
        state.withLock { state in
            state.version += 1
            state.changed[id] = nil
            state.removed.append((id, state.version))
            if state.removed.count > Inventory.maxTombstones {
                state.horizon = state.removed.removeFirst().version
            }
        }
    }

    struct Delta {
        var version: UInt64
        /// nil: everything (a full listing), else only these rings changed.
        var changed: Set<RingID>?
        var removed: [RingID]
    }

    /// What changed after `since`; a full listing when `since` is nil or too old.
    func delta(since: UInt64?) -> Delta {
        state.withLock { state in
            guard let since, since >= state.horizon, since <= state.version else {
                return Delta(version: state.version, changed: nil, removed: [])
            }
            return Delta(version: state.version,
                         changed: Set(state.changed.filter { $0.value > since }.keys),
                         removed: state.removed.filter { $0.version > since }.map(\.id))
        }
    }
}
