import HTTPEnvelope
import LogModel

/// One page of a job's runs, newest first (by start, then run name), with a keyset cursor: the
/// `next` of a page names its last run, and the next page holds the runs after it in that
/// order, so a deep page costs what the first does (an offset would cost the runs before it)
/// and a run that starts meanwhile never shifts a page under a reader.
struct RunPage {
    typealias Run = Components.Schemas.Run

    /// Where a page ends: the last run's start and name (`r1.` and both, base64url).
    struct Key: Comparable {
        var started: String
        var run: String

        init(_ run: Run) {
            started = run.started ?? ""
            self.run = run.run
        }

        init(parsing text: String) throws {
            let invalid = EnvelopeError(.badRequest, "before: not a cursor of this API's runs: \(text.prefix(80))")
            guard text.hasPrefix("r1."), let bytes = Base64.decode(String(text.dropFirst(3)), urlSafe: true) else { throw invalid }
            let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty else { throw invalid }
            started = String(parts[0])
            run = String(parts[1])
        }

        var text: String { "r1." + Base64.encode(Array("\(started)\n\(run)".utf8), urlSafe: true) }

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.started, lhs.run) < (rhs.started, rhs.run) }
    }

    enum StateFilter: String {
        case live, finished, failed

        func matches(_ run: Run) -> Bool {
            switch self {
            case .live: run.state == .live
            case .finished: run.state == .finished
            case .failed: run.state == .finished && ((run.exitCode ?? 0) != 0 || run.reason == "OOMKilled")
            }
        }
    }

    var runs: [Run]
    var next: String?
    var total: Int
    var oldest: String?

    static let defaultLimit = 50

    init(_ all: [Run], limit: Int?, before: String?, state: StateFilter?) throws {
        let matching = all.filter { state?.matches($0) ?? true }
        let limit = limit ?? Self.defaultLimit
        guard (1...1000).contains(limit) else { throw EnvelopeError(.badRequest, "limit: must be from 1 to 1000, not \(limit)") }
        let after = try before.map(Key.init(parsing:))
        let older = matching.map { (Key($0), $0) }.filter { key, _ in after.map { key < $0 } ?? true }.sorted { $0.0 > $1.0 }
        runs = older.prefix(limit).map(\.1)
        next = older.count > limit ? older[limit - 1].0.text : nil
        total = matching.count
        oldest = matching.compactMap(\.started).min()
    }
}
