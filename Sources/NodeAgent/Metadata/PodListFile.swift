import Foundation

/// Pods from a `kubectl get pods -o json` file (development, tests, or a sidecar that writes
/// it), re-read when the file changes.
final class PodListFile: PodSource, @unchecked Sendable {
    // Used by the ingest thread only.
    let path: String
    private var stamp: (modified: timespec, size: Int64)?
    private(set) var pods: [String: Pod] = [:]
    private(set) var lastError: String?

    init(path: String) { self.path = path }

    /// Reloads if the file changed since the last look; returns whether the pods changed.
    func refresh() -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let current = (info.st_mtim, Int64(info.st_size))
        if let stamp, stamp.modified.tv_sec == current.0.tv_sec, stamp.modified.tv_nsec == current.0.tv_nsec,
           stamp.size == current.1 {
            return false
        }
        stamp = current
        do {
            let list = try JSONDecoder().decode(PodList.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            let loaded = Dictionary(list.items.map { ($0.metadata.uid, $0) }, uniquingKeysWith: { $1 })
            lastError = nil
            guard loaded != pods else { return false }
            pods = loaded
            return true
        } catch {
            // A half-written file is read again when it changes next; the old pods stay.
            lastError = "\(path): \(error)"
            return false
        }
    }
}
