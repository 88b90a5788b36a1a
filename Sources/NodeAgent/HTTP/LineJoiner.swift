import RingStore

/// Joins the records of a line the runtime split (`P` … `F`: the kubelet splits lines longer
/// than 16 KiB) into one item, so that an item is a line as its writer meant it and `lines`
/// counts lines (as `Ring.continues` tells them). Only consecutive records of one stream are
/// joined, so that an item's cursor (right after its last record) stays exact; a chain that
/// outgrows `maxBytes` (a container that never ends its line) is handed out in pieces, each
/// marked partial.
struct LineJoiner {
    /// A joined line, or a gap, and the position right after it.
    struct Joined {
        var item: ReadItem
        var next: UInt64
    }

    static let maxBytes = 256 * 1024

    private var pending: LogRecord?
    private var pendingNext: UInt64 = 0

    var isEmpty: Bool { pending == nil }

    /// Joins the items of one read, in order, into `out`; with `atEnd`, a line still pending at
    /// the end goes out as it is (the read stopped in the middle of it).
    mutating func join(_ items: [ReadItem], atEnd: Bool, into out: inout [Joined]) {
        out.reserveCapacity(out.count + items.count)
        for item in items { add(item, into: &out) }
        if atEnd { flush(into: &out) }
    }

    private mutating func add(_ item: ReadItem, into out: inout [Joined]) {
        guard case let .record(record) = item else {
            flush(into: &out)
            return out.append(Joined(item: item, next: item.nextSeq))
        }
        if var line = pending {
            if Ring.continues(line, stream: record.stream), line.payload.count + record.payload.count <= Self.maxBytes {
                line.payload += record.payload
                line.flags = record.flags.union(line.flags.intersection(.truncated))
                pending = nil
                if record.flags.contains(.partial) {
                    pending = line
                    pendingNext = record.seq + 1
                } else {
                    out.append(Joined(item: .record(line), next: record.seq + 1))
                }
                return
            }
            flush(into: &out)
        }
        if record.flags.contains(.partial) {
            pending = record
            pendingNext = record.seq + 1
        } else {
            out.append(Joined(item: item, next: record.seq + 1))
        }
    }

    private mutating func flush(into out: inout [Joined]) {
        guard let line = pending else { return }
        pending = nil
        out.append(Joined(item: .record(line), next: pendingNext))
    }
}
