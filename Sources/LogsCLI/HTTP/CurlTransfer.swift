import CCurl

/// Where the logs API is and how to reach it.
package struct Connection: Sendable {
    /// The base URL of the logs API (`https://127.0.0.1:8443`, or the platform's `…/logs`).
    package var baseURL: String
    package var certificate: String?
    package var key: String?
    /// The CA of the server's certificate; nil: the system store.
    package var caFile: String?
    package var connectTimeoutSeconds = 10
    /// For requests that end (not follows).
    package var timeoutSeconds = 120
    /// A follow that receives nothing for this long (not even a heartbeat) is taken for dead.
    package var idleSeconds = 60

    package init(baseURL: String, certificate: String? = nil, key: String? = nil, caFile: String? = nil) {
        self.baseURL = baseURL
        self.certificate = certificate
        self.key = key
        self.caFile = caFile
    }
}

/// The transport failed before an HTTP answer came (refused, reset, TLS, timeout).
package struct TransferError: Error, CustomStringConvertible {
    package var description: String
}

/// One libcurl easy handle, reused so that its connection stays alive between requests. The
/// body is handed over as it arrives, so a follow prints each line as soon as it is read.
package final class CurlTransfer {
    private let handle: UnsafeMutableRawPointer
    private let connection: Connection
    package var baseURL: String { connection.baseURL }
    /// Where libcurl writes its error message: memory of the handle's lifetime, allocated here,
    /// because libcurl keeps the pointer and writes through it during every transfer (an array's
    /// buffer pointer is valid only inside `withUnsafeMutableBufferPointer`).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private static let globalInit: Void = { _ = ccurl_global_init() }()

    package init(_ connection: Connection) {
        _ = Self.globalInit
        handle = curl_easy_init()
        self.connection = connection
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The receiving end of one request: the status once the headers are in, then the body in
    /// pieces. `body` answers false to stop the transfer.
    package final class Receiver {
        package private(set) var status = 0
        let body: (UnsafeRawBufferPointer, Int) -> Bool

        package init(body: @escaping (_ bytes: UnsafeRawBufferPointer, _ status: Int) -> Bool) {
            self.body = body
        }

        /// When the server says to try again (`Retry-After` in seconds, of a 429 or 503).
        package private(set) var retryAfter: Int?

        /// Every status line (`HTTP/1.1 200 OK`; an interim 100 comes before the final one), and
        /// the headers this client acts on.
        func header(_ line: Substring) {
            if line.hasPrefix("HTTP/") {
                status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                retryAfter = nil
            } else if line.lowercased().hasPrefix("retry-after:") {
                retryAfter = Int(line.dropFirst("retry-after:".count).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }

    /// Performs one request. Returns normally when the server ended the answer or `receiver`
    /// stopped it; throws `TransferError` when the transport failed.
    package func perform(_ method: String, _ path: String, headers: [String] = [], body: [UInt8]? = nil,
                         streaming: Bool = false, into receiver: Receiver) throws(TransferError) {
        curl_easy_reset(handle)
        set(CURLOPT_URL, connection.baseURL + path)
        set(CURLOPT_CUSTOMREQUEST, method)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CONNECTTIMEOUT, connection.connectTimeoutSeconds)
        if streaming {
            // A live follow has no end; heartbeats keep it above one byte per idle period.
            set(CURLOPT_LOW_SPEED_LIMIT, 1)
            set(CURLOPT_LOW_SPEED_TIME, connection.idleSeconds)
        } else {
            set(CURLOPT_TIMEOUT, connection.timeoutSeconds)
        }
        set(CURLOPT_ACCEPT_ENCODING, "")
        set(CURLOPT_PROTOCOLS_STR, "https,http")
        if let certificate = connection.certificate { set(CURLOPT_SSLCERT, certificate) }
        if let key = connection.key { set(CURLOPT_SSLKEY, key) }
        if let caFile = connection.caFile { set(CURLOPT_CAINFO, caFile) }
        errorBuffer[0] = 0
        ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)

        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers + ["User-Agent: toolforge-logs", "Expect:"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)

        let context = Unmanaged.passRetained(receiver)
        defer { context.release() }
        ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())
        ccurl_setopt_header_function(handle) { data, size, count, context in
            let receiver = Unmanaged<Receiver>.fromOpaque(context!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            receiver.header(String(decoding: bytes, as: UTF8.self)[...])
            return size * count
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        ccurl_setopt_write_function(handle) { data, size, count, context in
            let receiver = Unmanaged<Receiver>.fromOpaque(context!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return receiver.body(bytes, receiver.status) ? size * count : 0
        }

        let code: CURLcode = body.map { body in
            body.withUnsafeBufferPointer { buffer in
                set(CURLOPT_POSTFIELDSIZE, buffer.count)
                ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return curl_easy_perform(handle)
            }
        } ?? curl_easy_perform(handle)
        // A write error after the headers is the receiver stopping on purpose.
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && receiver.status > 0) { return }
        let detail = String(cString: errorBuffer)
        throw TransferError(description: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
    }

    private func set(_ option: CURLoption, _ value: Int) {
        ccurl_setopt_long(handle, option, value)
    }

    private func set(_ option: CURLoption, _ value: String) {
        ccurl_setopt_string(handle, option, value)
    }
}
