import AgentWire
import ClientConnections

extension ClientConnection {
    /// `stream`, ended (and what feeds it stopped) when the connection of the request being
    /// answered closes.
    static func ending<Element>(_ stream: BoundedStream<Element>) -> BoundedStream<Element> {
        // Weakly: the answer may be over long before its connection is.
        current?.onClose { [weak stream] in stream?.cancel() }
        return stream
    }
}
