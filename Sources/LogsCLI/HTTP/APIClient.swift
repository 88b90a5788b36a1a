import Foundation
import LogsAPITypes

/// The logs API over one kept-alive libcurl connection: JSON envelopes in, typed answers out;
/// an error answer becomes a `CLIFailure` with its envelope's text.
package final class APIClient {
    let transfer: CurlTransfer

    package init(_ connection: Connection) {
        transfer = CurlTransfer(connection)
    }

    /// The tool's part of the API: `/v1/tool/NAME`.
    package static func toolPath(_ tool: String) -> String { "/v1/tool/" + escaped(tool) }

    /// One path segment, percent-encoded so that no name can reach another path.
    package static func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }

    /// `?a=1&b=2`, values percent-encoded; empty when there are none.
    package static func query(_ parameters: [(String, String)]) -> String {
        parameters.isEmpty ? "" : "?" + parameters.map { "\($0.0)=\(escaped($0.1))" }.joined(separator: "&")
    }

    /// A request whose answer is a JSON envelope, decoded as `T` on success.
    package func json<T: Decodable>(_ method: String, _ path: String, body: [UInt8]? = nil, as type: T.Type) throws(CLIFailure) -> T {
        var bytes: [UInt8] = []
        let receiver = CurlTransfer.Receiver { chunk, _ in
            bytes.append(contentsOf: chunk)
            return bytes.count < 64 << 20
        }
        let headers = ["Accept: application/json"] + (body == nil ? [] : ["Content-Type: application/json"])
        do {
            try transfer.perform(method, path, headers: headers, body: body, into: receiver)
        } catch {
            throw .connection("\(transfer.baseURL): \(error)")
        }
        guard (200..<300).contains(receiver.status) else {
            throw .answer(status: receiver.status, errors: Self.errors(in: bytes))
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw .connection("the server's answer to \(path) is not what the API says: \(error)")
        }
    }

    /// The error texts of an envelope, if the body is one.
    static func errors(in body: [UInt8]) -> [String] {
        (try? JSONDecoder().decode(Components.Schemas.ErrorResponse.self, from: Data(body)))?.messages.error ?? []
    }
}
