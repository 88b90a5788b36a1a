/// The name a person most likely meant, as git and kubectl suggest one for a typo: the closest
/// by edit distance (a swap of two neighbours counts as one edit, `jbo` for `job`), if it is
/// close enough to be a typo rather than another name.
public enum NearestName {
    public static func nearest(to typed: String, among names: some Sequence<String>) -> String? {
        let limit = max(1, min(2, typed.count / 3))
        var best: (name: String, distance: Int)?
        for name in names where name != typed {
            let distance = editDistance(Array(typed.utf8), Array(name.utf8))
            if distance <= limit, distance < best?.distance ?? .max || (distance == best?.distance && name < best!.name) {
                best = (name, distance)
            }
        }
        return best?.name
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    /// adjacent bytes, each one edit.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
