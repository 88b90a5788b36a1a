/// Which container run a kubelet log file belongs to, from its path:
/// `<pods-dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log`.
struct ContainerKey: Hashable, Sendable, CustomStringConvertible {
    var namespace: String
    var pod: String
    var podUID: String
    var container: String
    var restart: Int

    /// The pod directory's name, `<namespace>_<pod>_<uid>`; nil if it is not one.
    static func podDirectory(_ name: String) -> (namespace: String, pod: String, uid: String)? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (String(parts[0]), String(parts[1]), String(parts[2]))
    }

    /// The restart count of a current log file name, `<n>.log`; nil for rotated or other files.
    static func restart(ofLogFile name: String) -> Int? {
        guard name.hasSuffix(".log"), let count = Int(name.dropLast(4)), count >= 0 else { return nil }
        return count
    }

    var logFileName: String { "\(restart).log" }

    /// Whether `name` is a copy the kubelet rotated from this run's log, uncompressed:
    /// `<n>.log.<YYYYMMDD-HHMMSS>`. Nothing else beside a log is its history (`0.log.tmp`, an
    /// editor's backup, the kubelet's `.gz` and `.gz.tmp`).
    func isRotatedCopy(_ name: String) -> Bool {
        guard name.hasPrefix(logFileName + ".") else { return false }
        let stamp = Array(name.utf8.dropFirst(logFileName.utf8.count + 1))
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        return stamp.count == 15 && stamp[8] == UInt8(ascii: "-")
            && stamp.enumerated().allSatisfy { $0.offset == 8 || digits.contains($0.element) }
    }
    /// Stable across agent restarts: how a ring is found again for its container run.
    var description: String { "\(podUID)/\(container)/\(restart)" }
}
