/// Messages for the reader, in every JSON answer: `{"messages": {"info": [], "warning": [], "error": []}}`.
public struct Messages: Codable, Sendable, Equatable {
    public var info: [String]
    public var warning: [String]
    public var error: [String]

    public init(info: [String] = [], warning: [String] = [], error: [String] = []) {
        self.info = info
        self.warning = warning
        self.error = error
    }
}
