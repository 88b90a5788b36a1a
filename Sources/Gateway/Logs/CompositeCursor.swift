import LogModel

/// Where a merged read stands in each of its rings: after a sequence number, or from a time (for
/// a ring none of whose items were handed out yet). Text form `c1.<base64url>`, opaque to clients.
struct CompositeCursor: Equatable, Sendable {
    enum Position: Equatable, Sendable {
        case after(UInt64)
        case since(Int64)
    }

    var positions: [String: Position] = [:]

    var text: String {
        let body = positions.keys.sorted().map { id -> String in
            switch positions[id]! {
            case let .after(seq): "\(id)=s\(seq)"
            case let .since(time): "\(id)=t\(time)"
            }
        }.joined(separator: ";")
        return "c1." + Base64.encode(Array(body.utf8), urlSafe: true)
    }

    init(positions: [String: Position] = [:]) { self.positions = positions }

    init(parsing text: String) throws {
        let invalid = GatewayError(.badRequest, "after: not a cursor of this API: \(text.prefix(80))")
        guard text.hasPrefix("c1."),
              let bytes = Base64.decode(String(text.dropFirst(3)), urlSafe: true)
        else { throw invalid }
        for entry in String(decoding: bytes, as: UTF8.self).split(separator: ";") {
            let pair = entry.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let kind = pair[1].first else { throw invalid }
            switch kind {
            case "s": guard let seq = UInt64(pair[1].dropFirst()) else { throw invalid }; positions[String(pair[0])] = .after(seq)
            case "t": guard let time = Int64(pair[1].dropFirst()) else { throw invalid }; positions[String(pair[0])] = .since(time)
            default: throw invalid
            }
        }
        guard !positions.isEmpty else { throw invalid }
    }

    /// The position after an agent item (its `r1.<ring>.<seq>` cursor).
    static func seq(ofAgentCursor cursor: String?) -> UInt64? {
        cursor.flatMap { $0.split(separator: ".").last.flatMap { UInt64($0) } }
    }

    /// The agent cursor that resumes `ring` at sequence `seq`.
    static func agentCursor(ring: String, seq: UInt64) -> String { "r1.\(ring).\(seq)" }
}
