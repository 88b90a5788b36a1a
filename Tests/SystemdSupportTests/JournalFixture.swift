import Foundation
import Testing
import TestSupport

/// One entry as written to a test journal (the export format lives in TestSupport).
typealias ExportEntry = JournalExportEntry

extension JournalExportEntry {
    var realtime: UInt64 { UInt64(String(decoding: value("__REALTIME_TIMESTAMP")!, as: UTF8.self))! }
}

enum JournalFixture {
    static let binaryMessage: [UInt8] = [0x00, 0xff, 0xfe, 0x0a, 0x3d] + Array("not UTF-8".utf8)

    /// Five entries of two containers; the third has a binary `MESSAGE`, the fourth repeats `TOOL_TAG`.
    static let entries = (0..<5).map(entry)

    /// Entry `index`, one second after entry `index - 1`.
    static func entry(_ index: Int) -> ExportEntry {
        let container = index.isMultiple(of: 2) ? "web" : "worker"
        var fields: [(name: String, value: [UInt8])] = [
            ("__REALTIME_TIMESTAMP", Array("\(1_700_000_000_000_000 + index * 1_000_000)".utf8)),
            ("__MONOTONIC_TIMESTAMP", Array("\(5_000_000 + index * 1_000_000)".utf8)),
            ("_BOOT_ID", Array("0123456789abcdef0123456789abcdef".utf8)),
            ("MESSAGE", index == 2 ? binaryMessage : Array("line \(index)".utf8)),
            ("CONTAINER_NAME", Array(container.utf8)),
            ("CONTAINER_ID", Array("\(container)-0123456789ab".utf8)),
            ("PRIORITY", Array("6".utf8)),
        ]
        if index == 0 { fields.append(("TOOL_TAG", Array("beta".utf8))) }
        if index == 3 { fields += [("TOOL_TAG", Array("alpha".utf8)), ("TOOL_TAG", Array("beta".utf8))] }
        return ExportEntry(fields)
    }

    /// Writes `entries` into a real journal file at `path`, whose name must end in `.journal`.
    static func writeJournal(_ entries: [ExportEntry] = entries, to path: String) throws {
        try JournalExport.write(entries, to: path)
    }
}
