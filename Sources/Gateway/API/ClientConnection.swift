import AgentWire
import Hummingbird
import NIOCore
import Synchronization

/// The connection of the request being answered, so that a client that goes away stops costing
/// (issue 21). Hummingbird learns of a gone client only when a write to it fails, and a read
/// may write nothing for long: a grep that matches nothing scans a whole window. A streamed
/// answer ends when its connection closes instead.
final class ClientConnection: Sendable {
    @TaskLocal static var current: ClientConnection?

    private struct State {
        var closed = false
        /// What ends the streamed answer being written. HTTP/1 answers one request at a time on
        /// a connection, so a keep-alive connection that answers thousands holds one of these,
        /// not one each.
        var onClose: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// The connections with a request answered, until they close.
    private static let open = Mutex<[ObjectIdentifier: ClientConnection]>([:])

    /// `channel`'s, made (and told when it closes) on its first request.
    static func of(_ channel: any Channel) -> ClientConnection {
        let key = ObjectIdentifier(channel)
        let (connection, made) = open.withLock { open in
            if let known = open[key] { return (known, false) }
            let connection = ClientConnection()
            open[key] = connection
            return (connection, true)
        }
        if made {
            channel.closeFuture.whenComplete { _ in
                _ = open.withLock { $0.removeValue(forKey: key) }
                connection.closed()
            }
        }
        return connection
    }

    /// `stream`, ended (and what feeds it stopped) when the connection of the request being
    /// answered closes.
    static func ending<Element>(_ stream: BoundedStream<Element>) -> BoundedStream<Element> {
        current?.end(stream)
        return stream
    }

    private func end<Element>(_ stream: BoundedStream<Element>) {
        // Weakly: the answer may be over long before its connection is.
        let closedAlready = state.withLock { state in
            state.onClose = { [weak stream] in stream?.cancel() }
            return state.closed
        }
        if closedAlready { stream.cancel() }
    }

    private func closed() {
        let action = state.withLock { state in
            state.closed = true
            return state.onClose.take()
        }
        action?()
    }
}

/// Binds `ClientConnection.current` for the handlers behind it.
struct ClientConnectionMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: GatewayRequestContext,
                next: (Request, GatewayRequestContext) async throws -> Response) async throws -> Response {
        try await ClientConnection.$current.withValue(.of(context.channel)) { try await next(request, context) }
    }
}

/// Closes a connection whose client closed its side, as nginx takes such a client to have gone
/// (`ngx_http_test_reading`, its 499). Hummingbird allows half-closed connections, so without
/// this a client that hung up with a FIN (not a reset) would be noticed only by a write. A
/// client that half-closes after its request and still reads (`nc -N`) gets no answer.
final class ClosingOnClientHalfClose: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
