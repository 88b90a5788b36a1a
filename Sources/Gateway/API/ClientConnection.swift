import AgentWire
import Hummingbird
import NIOCore

/// The connection of the request being answered, so that a client that goes away stops costing
/// (issue 21). Hummingbird learns of a gone client only when a write to it fails, and a read
/// may write nothing for long: a grep that matches nothing scans a whole window. A streamed
/// answer ends when its connection closes instead.
enum ClientConnection {
    @TaskLocal static var closed: EventLoopFuture<Void>?

    /// `stream`, ended (and what feeds it stopped) when the connection it answers closes.
    static func ending<Element>(_ stream: BoundedStream<Element>) -> BoundedStream<Element> {
        // Weakly: a keep-alive connection answers many reads, and keeps this until it closes.
        closed?.whenComplete { [weak stream] _ in stream?.cancel() }
        return stream
    }
}

/// Binds `ClientConnection.closed` for the handlers behind it.
struct ClientConnectionMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: GatewayRequestContext,
                next: (Request, GatewayRequestContext) async throws -> Response) async throws -> Response {
        try await ClientConnection.$closed.withValue(context.channel.closeFuture) { try await next(request, context) }
    }
}

/// Closes a connection whose client closed its side, as nginx takes such a client to have gone
/// (`ngx_http_test_reading`, its 499). Hummingbird allows half-closed connections, so without
/// this a client that hung up with a FIN (not a reset) would be noticed only by a write.
final class ClosingOnClientHalfClose: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
