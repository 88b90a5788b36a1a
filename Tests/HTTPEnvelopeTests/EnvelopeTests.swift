import Foundation
import HTTPEnvelope
import Hummingbird
import HummingbirdTesting
import LogModel
import Testing

/// Every failure, whoever raised it, reaches the client as the envelope with its status.
@Suite(.timeLimit(.minutes(1))) struct EnvelopeTests {
    struct Unexpected: Error {}
    struct Refused: Error {}

    @Test func everyFailureIsTheEnvelopeWithItsStatus() async throws {
        let router = Router()
        router.add(middleware: EnvelopeMiddleware { error in error is Refused ? EnvelopeError(.conflict, "refused, translated") : nil })
        router.get("ours") { _, _ -> String in throw EnvelopeError(.badRequest, "lines: bad", warnings: ["careful"]) }
        router.get("allow") { _, _ -> String in throw EnvelopeError(.methodNotAllowed, "use GET", allow: "GET") }
        router.get("framework") { _, _ -> String in throw HTTPError(.contentTooLarge, message: "too big") }
        router.get("translated") { _, _ -> String in throw Refused() }
        router.get("unexpected") { _, _ -> String in throw Unexpected() }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let cases: [(String, HTTPResponse.Status, [String], [String])] = [
                ("/ours", .badRequest, ["lines: bad"], ["careful"]),
                ("/allow", .methodNotAllowed, ["use GET"], []),
                ("/framework", .contentTooLarge, ["too big"], []),
                ("/translated", .conflict, ["refused, translated"], []),
                ("/unexpected", .internalServerError, ["internal error: Unexpected()"], []),
                ("/nowhere", .notFound, ["Not Found"], []),
            ]
            for (path, status, errors, warnings) in cases {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == status, "\(path)")
                #expect(response.headers[.contentType] == "application/json", "\(path)")
                let messages = try JSONDecoder().decode(Body.self, from: Data(response.body.readableBytesView)).messages
                #expect(messages == Messages(warning: warnings, error: errors), "\(path)")
            }
            #expect(try await client.execute(uri: "/allow", method: .get).headers[.allow] == "GET")
        }
    }

    struct Body: Decodable { var messages: Messages }
}
