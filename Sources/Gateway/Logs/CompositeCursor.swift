import HTTPEnvelope
import LogModel

/// Where a read stands, in one of two forms, both opaque to clients:
/// - `k1.`: a *mark*, the last item handed out in merged order (its time, ring and position).
///   Every other ring's position follows from it, so it stays small whatever the number of
///   rings: pages (`next.url`) and the items of a read carry it.
/// - `c1.`: every ring's own position (after a sequence number, or from a time), for the
///   items of a follow, which come in the order the agents send them rather than in merged order.
struct CompositeCursor: Equatable, Sendable {
    /// A position in one ring, as the agent's read query takes it (`RingReadQuery`).
    enum Position: Equatable, Sendable {
        /// From this position on (forward): the `next` of the last item read.
        case after(UInt64)
        /// Before this position (backward): the `seq` of the oldest item read.
        case before(UInt64)
        /// From this time on (inclusive).
        case since(Int64)
        /// Up to this time (exclusive).
        case until(Int64)
    }

    /// The last item handed out of a merged read: merged order is by (time, ring id), a ring's
    /// items in their own order, reversed when newest first.
    struct Mark: Equatable, Sendable {
        var time: Int64
        var ring: String
        /// Forward: the position after the item (its `next`); newest first: its first (its `seq`).
        var seq: UInt64
        var newestFirst: Bool

        /// Where `ring` goes on: the marked ring from its item; rings merged before it at the
        /// same time are past that time, rings merged after it are not.
        func position(of other: String) -> Position {
            if other == ring { return newestFirst ? .before(seq) : .after(seq) }
            // Saturating: a mark comes from a client, and may hold any time.
            let past = time == .max ? time : time + 1
            if newestFirst { return other > ring ? .until(time) : .until(past) }
            return other < ring ? .since(past) : .since(time)
        }
    }

    var positions: [String: Position] = [:]
    var mark: Mark?

    init(positions: [String: Position] = [:]) { self.positions = positions }
    init(mark: Mark) { self.mark = mark }

    func position(of ring: String) -> Position? { mark?.position(of: ring) ?? positions[ring] }

    /// The rings it names: a cursor may only name rings of what is being read.
    var rings: [String] { mark.map { [$0.ring] } ?? Array(positions.keys) }

    var text: String {
        if let mark {
            let body = "\(mark.newestFirst ? "n" : "o");\(mark.time);\(mark.ring);\(mark.seq)"
            return "k1." + Base64.encode(Array(body.utf8), urlSafe: true)
        }
        // A follow's positions go forward: after a sequence number, or from a time.
        let body = positions.keys.sorted().compactMap { id -> String? in
            switch positions[id]! {
            case let .after(seq): "\(id)=s\(seq)"
            case let .since(time): "\(id)=t\(time)"
            case .before, .until: nil
            }
        }.joined(separator: ";")
        return "c1." + Base64.encode(Array(body.utf8), urlSafe: true)
    }

    init(parsing text: String) throws {
        let invalid = EnvelopeError(.badRequest, "after: not a cursor of this API: \(text.prefix(80))")
        guard text.count > 3, let bytes = Base64.decode(String(text.dropFirst(3)), urlSafe: true) else { throw invalid }
        let body = String(decoding: bytes, as: UTF8.self)
        switch text.prefix(3) {
        case "k1.":
            let parts = body.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 4, ["n", "o"].contains(parts[0]), let time = Int64(parts[1]), !parts[2].isEmpty,
                  let seq = UInt64(parts[3]) else { throw invalid }
            mark = Mark(time: time, ring: String(parts[2]), seq: seq, newestFirst: parts[0] == "n")
        case "c1.":
            for entry in body.split(separator: ";") {
                let pair = entry.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let kind = pair[1].first, let value = Int64(pair[1].dropFirst()) else { throw invalid }
                let position: Position
                switch kind {
                case "s" where value >= 0: position = .after(UInt64(value))
                case "t": position = .since(value)
                default: throw invalid
                }
                positions[String(pair[0])] = position
            }
            guard !positions.isEmpty else { throw invalid }
        default:
            throw invalid
        }
    }
}
