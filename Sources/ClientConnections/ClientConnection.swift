import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// The connection of the request being answered, so that a client that goes away stops costing
/// (issue 21). Hummingbird learns of a gone client only when a write to it fails, and a read
/// may write nothing for long: a search that matches nothing scans a whole window, a read waits
/// its turn. Work that may last asks its connection whether it is still there, or is told when
/// it closes.
public final class ClientConnection: Sendable {
    @TaskLocal public static var current: ClientConnection?

    private struct State {
        var closed = false
        /// What stops the work of the request being answered. HTTP/1 answers one request at a
        /// time on a connection, so a keep-alive connection that answers thousands holds one
        /// of these, not one each.
        var onClose: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// The connections with a request answered, until they close.
    private static let open = Mutex<[ObjectIdentifier: ClientConnection]>([:])

    /// `channel`'s, made (and told when it closes) on its first request.
    public static func of(_ channel: any Channel) -> ClientConnection {
        let key = ObjectIdentifier(channel)
        let (connection, made) = open.withLock { open in
            // A closed one is a channel gone whose address a new one took.
            if let known = open[key], !known.isClosed { return (known, false) }
            let connection = ClientConnection()
            open[key] = connection
            return (connection, true)
        }
        if made {
            channel.closeFuture.whenComplete { _ in
                open.withLock { if $0[key] === connection { $0[key] = nil } }
                connection.closed()
            }
        }
        return connection
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Runs `action` when the connection closes (at once if it has), in place of what the
    /// answer before asked.
    public func onClose(_ action: @escaping @Sendable () -> Void) {
        let closedAlready = state.withLock { state in
            state.onClose = action
            return state.closed
        }
        if closedAlready { action() }
    }

    private func closed() {
        let action = state.withLock { state in
            state.closed = true
            return state.onClose.take()
        }
        action?()
    }
}

/// A request context that knows its connection.
public protocol ChannelRequestContext: RequestContext {
    var channel: any Channel { get }
}

/// Binds `ClientConnection.current` for the handlers behind it.
public struct ClientConnectionMiddleware<Context: ChannelRequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await ClientConnection.$current.withValue(.of(context.channel)) { try await next(request, context) }
    }
}

/// Closes a connection whose client closed its side, as nginx takes such a client to have gone
/// (`ngx_http_test_reading`, its 499). Hummingbird allows half-closed connections, so without
/// this a client that hung up with a FIN (not a reset) would be noticed only by a write. A
/// client that half-closes after its request and still reads (`nc -N`) gets no answer.
public final class ClosingOnClientHalfClose: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    public init() {}

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The HTTP/1 server with this handler in its pipeline.
    public static var http1: HTTP1Channel.Configuration { HTTP1Channel.Configuration(additionalChannelHandlers: [ClosingOnClientHalfClose()]) }
}
