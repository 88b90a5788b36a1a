import Foundation

/// An HTTP client that asks and then never reads: its answer fills the socket's buffers and the
/// server's writes wait, as behind a reader that stopped. Closing it is a client going away.
public final class StalledClient {
    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port` and sends a GET of `path` with `headers`.
    public init(port: Int, path: String, headers: [String: String]) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        // A small receive buffer, so that the server's writes stall sooner.
        var small: Int32 = 4096
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED)
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        _ = request.utf8CString.withUnsafeBufferPointer { send(descriptor, $0.baseAddress, $0.count - 1, 0) }
    }

    /// Goes away: the connection is reset, not closed gracefully, as a killed client's is.
    public func close() {
        var reset = linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(descriptor)
    }

    /// Hangs up with a FIN and nothing else: its side of the connection closed, the socket kept
    /// (closing a socket with unread data would send a reset instead).
    public func halfClose() {
        shutdown(descriptor, Int32(SHUT_WR))
    }
}
