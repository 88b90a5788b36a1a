import Foundation
import HTTPEnvelope
import Hummingbird
import LogModel
import RingStore
import Synchronization

/// Whether the agent can do its job, for `/healthz`, `/internal/v2/stats` and metrics. A full
/// data disk does not make the agent unhealthy (it still serves what it has) but is reported.
final class AgentHealth: Sendable {
    private let state = Mutex((diskFull: false, lastError: String?.none))

    var diskFull: Bool { state.withLock { $0.diskFull } }

    func ingestSucceeded() {
        state.withLock { $0.diskFull = false }
    }

    func ingestFailed(_ error: Error) {
        let full: Bool
        if case let .io(_, _, code)? = error as? RingStoreError { full = code == ENOSPC || code == EDQUOT } else { full = false }
        state.withLock {
            $0.diskFull = $0.diskFull || full
            $0.lastError = "\(error)"
        }
    }

    func response() throws -> Response {
        let (diskFull, lastError) = state.withLock { ($0.diskFull, $0.lastError) }
        var messages = Messages()
        if diskFull { messages.warning.append("the data directory is full: new lines are not kept until space returns") }
        if let warning = OpenFileLimit.warning() { messages.warning.append(warning) }
        if let lastError { messages.info.append("last ingest error: \(lastError)") }
        return try Envelope.json(HealthBody(status: "OK", messages: messages))
    }
}

private struct HealthBody: Encodable {
    var status: String
    var messages: Messages
}

