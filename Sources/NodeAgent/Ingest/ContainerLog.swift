import Foundation
import LogModel
import RingStore

/// Limits that keep one container from hurting the others.
public struct IngestLimits: Sendable {
    /// Longest line kept; the rest of a longer line is skipped and the record flagged truncated.
    public var maxLineBytes: Int
    /// Bytes read from one container in one round-robin turn.
    public var quotaBytes: Int
    /// Per-container ingest rate (bytes a second) and burst; what is over it is dropped and
    /// counted in an in-band drop record.
    public var rateBytesPerSecond: UInt64
    public var burstBytes: UInt64

    public init(maxLineBytes: Int = 64 * 1024, quotaBytes: Int = 256 * 1024,
                rateBytesPerSecond: UInt64 = 1 << 20, burstBytes: UInt64 = 8 << 20) {
        self.maxLineBytes = maxLineBytes
        self.quotaBytes = quotaBytes
        self.rateBytesPerSecond = rateBytesPerSecond
        self.burstBytes = burstBytes
    }
}

/// Follows one container run's CRI log file into its ring: across the kubelet's rotation
/// (the renamed file is read to its end before the new one), across copytruncate (the file
/// shrinks: start again at 0), resuming where the ring's source position says.
final class ContainerLog {
    let key: ContainerKey
    let directory: String
    let ring: Ring
    private var file: LogFile?
    /// Offset in `file` up to which bytes have been read (including `carry`).
    private var offset: UInt64 = 0
    /// The start of a line whose end has not been read yet.
    private var carry: [UInt8] = []
    private var skippingLine = false
    private var limiter: TokenBucket
    private var droppedLines: UInt64 = 0
    private var droppedBytes: UInt64 = 0
    /// The last read found nothing new (the writer may be done with this file).
    private(set) var atEnd = false
    /// The last turn had lines over the rate limit: the container floods.
    private(set) var overRateLimit = false
    /// The first bytes of the file: if they change, it was truncated and written again
    /// (copytruncate) even if it has grown back past our offset meanwhile.
    private var fingerprint: [UInt8] = []
    static let fingerprintLength = 64

    /// The source time of the last well-formed line: a malformed line gets it, so that one bad
    /// line does not push the times of the lines after it forward (they cannot go backwards).
    private var lastSourceTime: Int64?

    var path: String { directory + "/" + key.logFileName }

    init(key: ContainerKey, directory: String, ring: Ring, limits: IngestLimits, now: Int64) {
        self.key = key
        self.directory = directory
        self.ring = ring
        limiter = TokenBucket(rate: limits.rateBytesPerSecond, burst: limits.burstBytes, now: now)
        resume()
    }

    /// Opens the file the ring's source position names, at its offset: the current log file,
    /// or, if the kubelet rotated it meanwhile, the renamed file (read to its end first).
    private func resume() {
        guard let position = SourcePosition(ring.sourcePosition) else {
            // First sight of this container run: start with what the kubelet already rotated.
            file = rotatedFiles().first.flatMap { LogFile(path: directory + "/" + $0) } ?? LogFile(path: path)
            return
        }
        let candidates = [path] + rotatedFiles().map { directory + "/" + $0 }
        for candidate in candidates {
            if let opened = LogFile(path: candidate), opened.device == position.device, opened.inode == position.inode {
                file = opened
                offset = position.offset
                skippingLine = position.skippingLine
                return
            }
        }
        // The file it was reading is gone (compressed or deleted): what is here now is new.
        file = LogFile(path: path)
    }

    /// Rotated copies of this log (`<n>.log.<time>`), oldest first; compressed ones are skipped.
    private func rotatedFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter(key.isRotatedCopy).sorted()
    }

    /// Reads up to the quota, appends what it read to the ring as one batch. Returns the bytes
    /// consumed (0 when there was nothing new).
    func ingest(buffer: inout [UInt8], limits: IngestLimits, now: Int64) throws -> Int {
        if file == nil { file = LogFile(path: path) }
        guard let file else {
            atEnd = true
            return 0
        }
        if offset > 0, !wasRewritten(file), fingerprint.count < min(Self.fingerprintLength, Int(offset)) {
            takeFingerprint(file)
        }
        let want = min(limits.quotaBytes, buffer.count)
        let count = buffer.withUnsafeMutableBytes { file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset) }
        guard count > 0 else {
            atEnd = true
            if !switchFileIfRotated() { return 0 }
            atEnd = false
            return 0
        }
        atEnd = false
        overRateLimit = false
        if fingerprint.count == Int(offset), fingerprint.count < Self.fingerprintLength {
            // The head of the file from the very bytes read: taken a turn later, it could be the
            // head of what a copytruncate wrote since, and that rewrite would go unseen.
            fingerprint += buffer[..<min(count, Self.fingerprintLength - fingerprint.count)]
        }
        // If the append fails (a full disk), nothing of this turn happened: it is read again.
        let before = (carry, skippingLine)
        var entries: [AppendEntry] = []
        buffer.withUnsafeBytes { raw in
            split(UnsafeRawBufferPointer(rebasing: raw[..<count]), into: &entries, limits: limits, now: now)
        }
        if droppedLines > 0 {
            entries.append(.drop(timestamp: lastSourceTime ?? now, records: droppedLines, bytes: droppedBytes, reason: "rate-limited"))
        }
        let end = offset + UInt64(count)
        let position = SourcePosition(device: file.device, inode: file.inode, offset: end - UInt64(carry.count),
                                      skippingLine: skippingLine)
        do {
            try ring.append(entries, sourcePosition: position.encoded)
        } catch {
            (carry, skippingLine) = before
            throw error
        }
        offset = end
        droppedLines = 0
        droppedBytes = 0
        return count
    }

    /// Cuts the bytes into lines (a line's start may be in `carry` from the previous read).
    private func split(_ bytes: UnsafeRawBufferPointer, into entries: inout [AppendEntry], limits: IngestLimits, now: Int64) {
        var lineStart = 0
        while let newline = bytes.firstIndex(of: UInt8(ascii: "\n"), from: lineStart) {
            if skippingLine {
                skippingLine = false
            } else if carry.isEmpty {
                take(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<newline]), into: &entries, limits: limits, now: now)
            } else {
                carry.append(contentsOf: bytes[lineStart..<newline])
                let line = carry
                carry.removeAll()
                take(line, limits: limits, into: &entries, now: now)
            }
            lineStart = newline + 1
        }
        guard !skippingLine, lineStart < bytes.count else { return }
        carry.append(contentsOf: bytes[lineStart...])
        if carry.count > limits.maxLineBytes {
            // Keep what fits of an over-long line, skip the rest of it: memory stays bounded.
            let line = carry
            carry.removeAll(keepingCapacity: false)
            skippingLine = true
            take(line, limits: limits, into: &entries, now: now)
        }
    }

    private func take(_ line: [UInt8], limits: IngestLimits, into entries: inout [AppendEntry], now: Int64) {
        line.withUnsafeBytes { take($0, into: &entries, limits: limits, now: now) }
    }

    /// One line: a CRI record, or (malformed) the whole line as stream `other` at `now`.
    private func take(_ line: UnsafeRawBufferPointer, into entries: inout [AppendEntry], limits: IngestLimits, now: Int64) {
        let parsed = CRILine.parse(line)
        let timestamp = parsed?.timestamp ?? lastSourceTime ?? now
        lastSourceTime = timestamp
        var message = UnsafeRawBufferPointer(rebasing: line[(parsed?.messageStart ?? 0)...])
        var flags: RecordFlags = parsed?.partial == true ? [.partial] : []
        if message.count > limits.maxLineBytes || skippingLine {
            message = UnsafeRawBufferPointer(rebasing: message[..<min(message.count, limits.maxLineBytes)])
            flags.insert(.truncated)
        }
        guard limiter.take(message.count, now: now) else {
            overRateLimit = true
            droppedLines += 1
            droppedBytes += UInt64(message.count)
            return
        }
        if droppedLines > 0 {
            entries.append(.drop(timestamp: timestamp, records: droppedLines, bytes: droppedBytes, reason: "rate-limited"))
            droppedLines = 0
            droppedBytes = 0
        }
        entries.append(.line(timestamp: timestamp, stream: parsed?.stream ?? .other, flags: flags, payload: Array(message)))
    }

    private func wasRewritten(_ file: LogFile) -> Bool {
        guard !fingerprint.isEmpty else { return false }
        var head = [UInt8](repeating: 0, count: fingerprint.count)
        let count = head.withUnsafeMutableBytes { file.read(into: $0, at: 0) }
        guard count < fingerprint.count || head != fingerprint else { return false }
        startOver()
        return true
    }

    private func takeFingerprint(_ file: LogFile) {
        var head = [UInt8](repeating: 0, count: Self.fingerprintLength)
        let count = head.withUnsafeMutableBytes { file.read(into: $0, at: 0) }
        fingerprint = Array(head[..<min(count, Int(offset))])
    }

    /// The same file started over (copytruncate): read it from the start.
    private func startOver() {
        offset = 0
        carry.removeAll()
        skippingLine = false
        fingerprint = []
    }

    /// At the end of the file: if the kubelet renamed it and started a new one (rotation), or
    /// truncated it (copytruncate), moves on. Returns whether there may be more to read.
    private func switchFileIfRotated() -> Bool {
        guard let file, let current = LogFile.identity(of: path) else { return false }
        if current.device == file.device, current.inode == file.inode {
            guard current.size < offset else { return false }
            startOver()
            return true
        }
        // Rotated: this file is complete. Read the next rotated copy if there is one newer than
        // it (several rotations while we were behind), else the new current file.
        let rotated = rotatedFiles()
        let mine = rotated.firstIndex { name in
            LogFile.identity(of: directory + "/" + name).map { $0.device == file.device && $0.inode == file.inode } ?? false
        }
        let next = mine.flatMap { $0 + 1 < rotated.count ? directory + "/" + rotated[$0 + 1] : nil } ?? path
        guard let opened = LogFile(path: next) else { return false }
        self.file = opened
        startOver()
        return true
    }
}
