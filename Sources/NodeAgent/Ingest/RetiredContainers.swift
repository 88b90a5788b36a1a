import Foundation
import Synchronization

/// Container runs whose ring files are gone on purpose: purged, evicted by retention, or folded
/// into a history (which the agent does not hold in memory, docs/ring-format.md, "The run
/// index"). Kept beside the rings (`retired-containers`, one container key a line). The kubelet
/// keeps a finished pod's log files until the pod is deleted: an agent restarted in between
/// finds no ring file for such a run and would read it back in from them (purged lines back,
/// an evicted or folded run again as if new). A key is forgotten once its pod's directory is gone.
final class RetiredContainers: Sendable {
    let path: String
    let directory: String
    private let keys: Mutex<Set<String>>

    init(dataDirectory: String) {
        directory = dataDirectory
        path = dataDirectory + "/retired-containers"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        keys = Mutex(Set(text.split(separator: "\n").map(String.init)))
    }

    func contains(_ key: ContainerKey) -> Bool { keys.withLock { $0.contains(key.description) } }

    /// Records `keys` for good before their rings are deleted: written and synced, so that
    /// neither a crash nor power loss after a purge answers brings a run back.
    func add(_ added: some Sequence<String>) throws {
        try keys.withLock { keys in
            let union = keys.union(added)
            guard union.count > keys.count else { return }
            // Memory follows the file: a key whose write failed is written by the next call.
            try write(union)
            keys = union
        }
    }

    /// Forgets the keys of pods whose directories are gone (`present`: the pod uids there now).
    func forget(podsOtherThan present: Set<String>) throws {
        try keys.withLock { keys in
            let kept = keys.filter { present.contains(String($0.prefix { $0 != "/" })) }
            guard kept.count < keys.count else { return }
            keys = kept
            try write(keys)
        }
    }

    /// Replaces the file whole (a temporary file, synced, renamed over it, the rename synced).
    private func write(_ keys: Set<String>) throws {
        let temporary = path + ".tmp"
        let data = Data(keys.sorted().map { $0 + "\n" }.joined().utf8)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw AgentError.system("create \(temporary)", errno)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else { throw AgentError.system("rename \(temporary)", errno) }
        let entries = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard entries >= 0 else { throw AgentError.system("open \(directory)", errno) }
        defer { close(entries) }
        guard fsync(entries) == 0 else { throw AgentError.system("fsync \(directory)", errno) }
    }
}
