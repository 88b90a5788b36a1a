import RingStore

/// Joins the records of a line the runtime split (`P` … `F`: the kubelet splits lines longer
/// than 16 KiB) into one item, so that an item is a line as its writer meant it and `lines`
/// counts lines. Only consecutive records of one stream are joined, so that an item's cursor
/// (right after its last record) stays exact; a chain that outgrows `maxBytes` (a container
/// that never ends its line) is handed out in pieces, each marked partial.
struct LineJoiner {
    /// A joined line, or a gap, and the position right after it.
    struct Joined {
        var item: ReadItem
        var next: UInt64
    }

    static let maxBytes = 256 * 1024

    private var pending: LogRecord?
    private var pendingNext: UInt64 = 0

    /// Takes the next item read; returns what is complete (at most two items: an unfinished
    /// chain that this item cannot continue, then this item).
    mutating func add(_ item: ReadItem) -> [Joined] {
        guard case let .record(record) = item else { return flush() + [Joined(item: item, next: item.nextSeq)] }
        var out: [Joined] = []
        if var line = pending {
            if line.stream == record.stream, line.payload.count + record.payload.count <= Self.maxBytes {
                line.payload += record.payload
                line.flags = record.flags.union(line.flags.intersection(.truncated))
                if !record.flags.contains(.partial) {
                    line.flags.remove(.partial)
                    pending = nil
                    return [Joined(item: .record(line), next: record.seq + 1)]
                }
                pending = line
                pendingNext = record.seq + 1
                return []
            }
            out = flush()
        }
        if record.flags.contains(.partial) {
            pending = record
            pendingNext = record.seq + 1
            return out
        }
        return out + [Joined(item: item, next: record.seq + 1)]
    }

    var isEmpty: Bool { pending == nil }

    /// What is pending, as a partial line: the read ended in the middle of a line.
    mutating func flush() -> [Joined] {
        guard let line = pending else { return [] }
        pending = nil
        return [Joined(item: .record(line), next: pendingNext)]
    }
}
