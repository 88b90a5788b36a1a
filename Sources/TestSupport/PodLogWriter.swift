import Foundation
import LogModel

/// Writes container logs the way the kubelet and containerd do: CRI lines in
/// `<pods>/<namespace>_<pod>_<uid>/<container>/<restart>.log`, rotation by renaming the file to
/// `<restart>.log.<time>` and starting a new one, and copytruncate.
public final class PodLogWriter: @unchecked Sendable {
    public let podsDirectory: String
    public let namespace: String
    public let pod: String
    public let uid: String
    public let container: String
    public let restart: Int
    private var handle: FileHandle?
    private var rotations = 0

    public init(podsDirectory: String, namespace: String, pod: String, uid: String = UUID().uuidString.lowercased(),
                container: String, restart: Int = 0) throws {
        self.podsDirectory = podsDirectory
        self.namespace = namespace
        self.pod = pod
        self.uid = uid
        self.container = container
        self.restart = restart
        try FileManager.default.createDirectory(atPath: containerDirectory, withIntermediateDirectories: true)
        try open()
    }

    public var podDirectory: String { "\(podsDirectory)/\(namespace)_\(pod)_\(uid)" }
    public var containerDirectory: String { "\(podDirectory)/\(container)" }
    public var path: String { "\(containerDirectory)/\(restart).log" }

    private func open() throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle?.seekToEnd()
    }

    /// Appends one line in CRI format (`F`, or `P` for a fragment of a longer line).
    public func write(_ message: String, stream: String = "stdout", partial: Bool = false, time: Int64 = NanoTime.now()) throws {
        try writeRaw("\(NanoTime.format(time)) \(stream) \(partial ? "P" : "F") \(message)\n")
    }

    /// Appends bytes as they are (for malformed lines).
    public func writeRaw(_ text: String) throws {
        try handle?.write(contentsOf: Data(text.utf8))
    }

    /// The kubelet's rotation: rename the file aside and start a new, empty one.
    public func rotate() throws {
        try handle?.close()
        rotations += 1
        try FileManager.default.moveItem(atPath: path, toPath: "\(path).2026112\(rotations)-000000")
        try open()
    }

    /// copytruncate: the file is cut to zero and written again from the start.
    public func truncate() throws {
        try handle?.truncate(atOffset: 0)
    }

    /// The pod was deleted: its whole directory goes.
    public func deletePod() throws {
        try handle?.close()
        handle = nil
        try FileManager.default.removeItem(atPath: podDirectory)
    }
}
