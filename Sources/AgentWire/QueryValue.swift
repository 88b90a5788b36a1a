/// A parameter of one of the agent's queries that is malformed, unknown, given twice, or at
/// odds with another: the 400's text.
public struct InvalidQuery: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}

/// One parameter of a query, read as what it must be; the error names it and says what.
struct QueryValue {
    let name: String
    let value: String

    func number<T: FixedWidthInteger>(_ range: ClosedRange<T>, _ what: String) throws(InvalidQuery) -> T {
        guard let number = T(value), range.contains(number) else { throw InvalidQuery(description: "\(name): must be \(what), not \(value)") }
        return number
    }

    func flag() throws(InvalidQuery) -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw InvalidQuery(description: "\(name): must be true or false, not \(value)")
        }
    }

    /// Each parameter of `parameters` once, in order.
    static func each(_ parameters: some Sequence<(String, String)>) throws(InvalidQuery) -> [QueryValue] {
        var seen = Set<String>()
        var values: [QueryValue] = []
        for (name, value) in parameters {
            guard seen.insert(name).inserted else { throw InvalidQuery(description: "\(name): given twice") }
            values.append(QueryValue(name: name, value: value))
        }
        return values
    }
}
