import ClientConnections
import Hummingbird
import NIOCore

/// The gateway's request context: Hummingbird's, plus the connection, whose peer address decides
/// whether identity headers are believed and whose TLS handler holds the client certificate.
public struct GatewayRequestContext: ChannelRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var remoteAddress: SocketAddress? { channel.remoteAddress }
}
