import Foundation
import Synchronization
import Yams

/// Who belongs to which tool: a YAML file (`tool: [user, …]`), re-read when it changes. The
/// platform's LDAP groups can take its place behind the same question later.
public final class Members: Sendable {
    let path: String?
    private let state = Mutex<(stamp: Date?, members: [String: Set<String>], error: String?)>((nil, [:], nil))

    public init(path: String?) {
        self.path = path
    }

    public func isMember(_ user: String, of tool: String) -> Bool {
        reloadIfChanged()
        return state.withLock { $0.members[tool]?.contains(user) ?? false }
    }

    /// Why the file could not be read, if it could not (the last good list stays in force).
    var lastError: String? { state.withLock { $0.error } }

    private func reloadIfChanged() {
        guard let path, let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return }
        guard state.withLock({ $0.stamp != modified }) else { return }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let parsed = try YAMLDecoder().decode([String: [String]].self, from: text)
            state.withLock { $0 = (modified, parsed.mapValues(Set.init), nil) }
        } catch {
            // Keep the last good list: a half-written file must not lock everyone out.
            state.withLock { $0.stamp = modified; $0.error = "\(path): \(error)" }
        }
    }
}
