import ClientConnections
import Hummingbird
import NIOCore

/// The agent's request context: Hummingbird's, plus the connection, so that a read whose client
/// went away stops (`ClientConnection`).
struct AgentRequestContext: ChannelRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
