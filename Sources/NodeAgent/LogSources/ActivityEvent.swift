import Foundation
import LogModel
import RingStore

/// Something that happened to a tool's pods, at the time it happened (a container's start or
/// end as the kubelet reports it, a pod deleted, a run purged), as its tool's activity ring
/// keeps it: one JSON object per record, which reads hand out as an entry's fields
/// (`RingLogStream`), with `time` and `run` taken apart as the entry's own.
struct ActivityEvent: Encodable, Equatable {
    enum Event: String, Encodable {
        case started, exited, deleted, purged
    }

    /// Whose activity ring keeps it (not stored: the ring is the tool's).
    var tool: String
    var event: Event
    var message: String
    /// When it happened, nanoseconds since the epoch: the entry's time, since the ring keeps
    /// its records' times in order and the agent may learn of an event late.
    var time: Int64
    /// The run it is about, if any.
    var kind: RingKind?
    var name: String?
    var run: String?
    var segment: Int?
    var pod: String?
    var container: String?
    var exitCode: Int32?
    var reason: String?

    /// The members a read takes apart as the entry's own rather than as fields.
    enum Stored {
        static let time = CodingKeys.time.stringValue
        static let run = CodingKeys.run.stringValue
    }

    enum CodingKeys: String, CodingKey {
        case event, message, time, kind, name, run, segment, pod, container, reason
        case exitCode = "exit_code"
    }

    /// An event about a run, with what its metadata says of it.
    init(_ event: Event, of run: RingMetadata, message: String, time: Int64, detailed: Bool = true) {
        tool = run.tool
        self.event = event
        self.message = message
        self.time = time
        kind = run.kind
        name = run.name
        self.run = run.run
        guard detailed else { return }
        segment = run.segment
        pod = run.pod
        container = run.container
        exitCode = run.exitCode
        reason = run.reason
    }

    /// A pod deleted, with all its containers.
    init(podDeleted pod: String, tool: String, time: Int64) {
        self.tool = tool
        event = .deleted
        message = "pod \(pod) deleted"
        self.time = time
        self.pod = pod
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event, forKey: .event)
        try container.encode(message, forKey: .message)
        try container.encode(NanoTime.format(time), forKey: .time)
        try container.encodeIfPresent(kind?.rawValue, forKey: .kind)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(run, forKey: .run)
        // As text, as events have always been stored: readers see every field as a string.
        try container.encodeIfPresent(segment.map(String.init), forKey: .segment)
        try container.encodeIfPresent(pod, forKey: .pod)
        try container.encodeIfPresent(self.container, forKey: .container)
        try container.encodeIfPresent(exitCode.map(String.init), forKey: .exitCode)
        try container.encodeIfPresent(reason, forKey: .reason)
    }

    /// The record's payload: the object, its keys sorted.
    var payload: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? [UInt8](encoder.encode(self))) ?? []
    }
}
