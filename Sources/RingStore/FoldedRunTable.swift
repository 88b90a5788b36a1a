/// Where each folded run's record is, by ring id: 16 bytes a run, so that a node of millions of
/// folded runs finds any of them without an object per run (docs/ring-format.md, "The run
/// index"). Keyed on the id's first 8 bytes; ids that share them are told apart by their
/// records. A sorted array, binary searched, with a small unsorted tail merged in now and then.
struct FoldedRunTable {
    /// A history (its number in the directory) and a record in its index.
    struct Place: Hashable {
        var history: UInt32
        var record: UInt64

        /// Records start at 8-byte boundaries: an index of up to 32 GiB fits.
        var packed: UInt64 { UInt64(history) << 32 | record / 8 }
        init(history: UInt32, record: UInt64) {
            self.history = history
            self.record = record
        }

        init(packed: UInt64) {
            history = UInt32(packed >> 32)
            record = (packed & 0xffff_ffff) * 8
        }
    }

    private struct Slot {
        var key: UInt64
        var place: UInt64
    }

    private var sorted: [Slot] = []
    private var recent: [Slot] = []
    /// Slots in `sorted` whose run went (their place is `gone`), dropped at the next merge.
    private var goneCount = 0
    private static let gone = UInt64.max
    /// The tail is merged once it holds this many: a merge of a nearly sorted array is linear.
    static let tailLimit = 4096

    private(set) var count = 0

    mutating func insert(_ id: RingID, _ place: Place) {
        recent.append(Slot(key: id.prefix, place: place.packed))
        count += 1
        if recent.count >= Self.tailLimit { merge() }
    }

    /// Adds a run while the table is built at start, in no order: `finishLoading()` then sorts
    /// once, where a merge per tail would sort millions of runs a thousand times.
    mutating func load(_ id: RingID, _ place: Place) {
        sorted.append(Slot(key: id.prefix, place: place.packed))
        count += 1
    }

    mutating func finishLoading() {
        sorted.sort { $0.key < $1.key }
        fit()
    }

    /// Room for `count` runs before the first is loaded: grown by doubling instead, the table
    /// of a node of millions of runs would hold up to twice the memory it needs.
    mutating func reserveCapacity(_ count: Int) { sorted.reserveCapacity(count) }

    /// Gives back capacity beyond an eighth more than the table holds.
    private mutating func fit() {
        guard sorted.capacity > sorted.count + sorted.count / 8 + Self.tailLimit else { return }
        let exact = [Slot](unsafeUninitializedCapacity: sorted.count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: sorted)
        }
        sorted = exact
    }

    /// Every place an id with `id`'s prefix may be: the caller checks the record's full id.
    func places(of id: RingID) -> [Place] {
        let key = id.prefix
        var found = recent.filter { $0.key == key }.map { Place(packed: $0.place) }
        var index = lowerBound(key)
        while index < sorted.count, sorted[index].key == key {
            if sorted[index].place != Self.gone { found.append(Place(packed: sorted[index].place)) }
            index += 1
        }
        return found
    }

    mutating func remove(_ id: RingID, _ place: Place) {
        let key = id.prefix, packed = place.packed
        if let index = recent.firstIndex(where: { $0.key == key && $0.place == packed }) {
            recent.remove(at: index)
            count -= 1
            return
        }
        var index = lowerBound(key)
        while index < sorted.count, sorted[index].key == key {
            if sorted[index].place == packed {
                sorted[index].place = Self.gone
                goneCount += 1
                count -= 1
                if goneCount > Self.tailLimit && goneCount > sorted.count / 4 { merge() }
                return
            }
            index += 1
        }
    }

    /// Sorts the tail into the array, and drops the runs that went.
    mutating func merge() {
        if goneCount > 0 {
            sorted.removeAll { $0.place == Self.gone }
            goneCount = 0
        }
        // Grown by a sixteenth, not doubled: a merge adds a few thousand runs to millions.
        if sorted.capacity < sorted.count + recent.count {
            sorted.reserveCapacity(sorted.count + Swift.max(recent.count, sorted.count / 16))
        }
        sorted += recent
        recent.removeAll(keepingCapacity: true)
        sorted.sort { $0.key < $1.key }
        fit()
    }

    private func lowerBound(_ key: UInt64) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
