import Foundation
import LogModel

/// Reads a log endpoint as NDJSON and prints each item as it arrives. With `follow` it never
/// gives up on the server: a dropped connection or a restarted gateway is retried with backoff
/// and resumed from the last cursor, so every line is printed exactly once.
package final class LogReader {
    let client: APIClient
    var printer: LogPrinter
    let errors: StandardStream
    let errorPalette: Palette
    /// The cursor of the last item printed: where a reconnect resumes.
    package private(set) var cursor: String?
    /// Lines and gaps printed so far (not messages).
    package private(set) var printed = 0

    package init(client: APIClient, printer: LogPrinter, errors: StandardStream, errorPalette: Palette) {
        self.client = client
        self.printer = printer
        self.errors = errors
        self.errorPalette = errorPalette
    }

    /// `parameters` select what to read (`lines`, `since`, `run`, …); `filters` are the ones that
    /// still apply when a follow resumes from a cursor (`run`, `stream`, `container`, `grep`).
    /// `newestFirst` reads come newest first, and are printed oldest first once all are in.
    package func read(_ path: String, parameters: [(String, String)], filters: [(String, String)], follow: Bool,
                      newestFirst: Bool = false) throws(CLIFailure) {
        var backoff = 0.25
        var lastFailure: String?
        var busy = 0
        while true {
            let query = cursor.map { filters + [("after", $0)] } ?? parameters + filters
            let failure: String
            var wait: Double?
            do {
                let answer = try once(path + APIClient.query(query + (follow ? [("follow", "true")] : [])), follow: follow,
                                      newestFirst: newestFirst) {
                    // Connected: the next failure is a new outage.
                    backoff = 0.25
                    lastFailure = nil
                }
                // A clean end is the server saying nothing more will come (a finished run).
                guard case let .failed(refusal, status, retryAfter) = answer else { return }
                if status == 429 {
                    // The tool has as many reads running as a node allows: a read waits as
                    // long as the server says, a few times; a follow for as long as it takes.
                    busy += 1
                    guard follow || busy < Self.busyTries else { throw refusal }
                    wait = Double(min(max(retryAfter ?? 1, 1), 30))
                } else if !follow {
                    throw refusal
                }
                failure = refusal.description
            } catch let error as TransferError {
                guard follow else { throw .connection("\(client.transfer.baseURL): \(error)") }
                failure = error.description
            } catch let error as CLIFailure {
                // Refusals do not heal by retrying; an unavailable server may.
                guard follow, error.exitCode == 3 else { throw error }
                failure = error.description
            } catch {
                throw .connection("\(error)")
            }
            printer.closeLine()
            printer.flush()
            // Said once per outage and cause, not at every retry.
            if failure != lastFailure {
                let next = wait.map { "trying again in \(Int($0)) s" } ?? "reconnecting until it answers (Ctrl-C ends)"
                errors.line(errorPalette.warning("Warning: \(failure); \(next)"))
                errors.flush()
                lastFailure = failure
            }
            if let wait {
                Thread.sleep(forTimeInterval: wait)
            } else {
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
    }

    /// Tries of a read that the server answers 429 (a follow tries for as long as it runs).
    static let busyTries = 4

    /// How one request ended: its answer all read, or an error answer that may heal (a 429 or a
    /// 5xx), with its status and when the server said to try again.
    enum Answer {
        case ended
        case failed(CLIFailure, status: Int, retryAfter: Int?)
    }

    /// One request: how it ended (an error answer that may heal: a 429 or a 5xx); throws what
    /// will not. A follow prints an entry once it has a cursor to resume after it: the server
    /// puts one at least every thousand entries and on the last of each write (docs/api.md), and
    /// what came after the last one is read again after a reconnect, so it is held until then.
    private func once(_ target: String, follow: Bool, newestFirst: Bool, connected: @escaping () -> Void) throws -> Answer {
        var held: [(StreamedEntry, ArraySlice<UInt8>)] = []
        var pending: [UInt8] = []
        var errorBody: [UInt8] = []
        var decodeFailure: String?
        let receiver = CurlTransfer.Receiver { [self] chunk, status in
            guard (200..<300).contains(status) else {
                errorBody.append(contentsOf: chunk.prefix(1 << 20 - errorBody.count))
                return true
            }
            if pending.isEmpty, !chunk.isEmpty { connected() }
            pending.append(contentsOf: chunk)
            var start = 0
            let read = pending.withUnsafeBytes { bytes -> Bool in
                while let end = bytes.firstIndex(of: UInt8(ascii: "\n"), from: start) {
                    defer { start = end + 1 }
                    guard let item = try? StreamedEntry(line: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else {
                        decodeFailure = "an item the API does not describe: \(String(decoding: bytes[start..<min(end, start + 200)], as: UTF8.self))"
                        return false
                    }
                    let line = pending[start..<end]
                    // A heartbeat prints nothing and marks no place: not held either, else a quiet
                    // follow would keep every one.
                    if item.type == .heartbeat { continue }
                    if item.type == .message {
                        // To standard error at once: a follow's note that it waits must not wait.
                        self.emit(item, json: line)
                    } else if newestFirst || (follow && item.cursor == nil) {
                        held.append((item, line))
                    } else {
                        self.emit(&held)
                        self.emit(item, json: line)
                    }
                }
                return true
            }
            guard read else { return false }
            pending.removeSubrange(..<start)
            // A follow shows each line as it comes; a read fills the output buffer first.
            if follow { self.printer.flush() }
            return true
        }
        try client.transfer.perform("GET", target, headers: ["Accept: application/x-ndjson"], streaming: follow, into: receiver)
        if let decodeFailure { throw CLIFailure.connection(decodeFailure) }
        guard (200..<300).contains(receiver.status) else {
            let failure = CLIFailure.answer(status: receiver.status, errors: APIClient.errors(in: errorBody))
            guard failure.exitCode == 3 else { throw failure }
            return .failed(failure, status: receiver.status, retryAfter: receiver.retryAfter)
        }
        // The answer ended cleanly: what it held is all there is.
        if newestFirst { held.reverse() }
        emit(&held)
        printer.flush()
        return .ended
    }

    /// Prints what was held, in order, and lets go of it.
    private func emit(_ held: inout [(StreamedEntry, ArraySlice<UInt8>)]) {
        for (item, line) in held { emit(item, json: line) }
        held.removeAll()
    }

    private func emit(_ item: StreamedEntry, json line: ArraySlice<UInt8>) {
        if item.type == .log || item.type == .gap { printed += 1 }
        printer.print(item, json: line)
        if let cursor = item.cursor, item.type != .message { self.cursor = cursor }
    }
}
