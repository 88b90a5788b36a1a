import AgentWire

/// The agent's ring kinds as the public API spells them: a switch each, so that a kind added to
/// the wire does not build until the API says what it is (no silent fallback, no force).
extension Components.Schemas.RingRow.KindPayload {
    init(_ kind: AgentRing.Kind) {
        switch kind {
        case .continuous: self = .continuous
        case .scheduled: self = .scheduled
        case .oneoff: self = .oneoff
        case .webservice: self = .webservice
        case .build: self = .build
        case .custom: self = .custom
        case .activity: self = .activity
        }
    }
}

extension Components.Schemas.FoldedRow.KindPayload {
    /// Nil for the kinds that never fold: custom sources and activity.
    init?(_ kind: AgentRing.Kind) {
        self.init(rawValue: Components.Schemas.RingRow.KindPayload(kind).rawValue)
    }
}
