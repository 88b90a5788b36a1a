import Foundation
import Testing

/// One entry as written to a test journal: its fields in order.
struct ExportEntry {
    var fields: [(name: String, value: [UInt8])]

    init(_ fields: [(name: String, value: [UInt8])]) { self.fields = fields }

    func value(_ name: String) -> [UInt8]? { fields.first { $0.name == name }?.value }

    var realtime: UInt64 { UInt64(String(decoding: value("__REALTIME_TIMESTAMP")!, as: UTF8.self))! }

    /// The journal export format: printable fields as `NAME=value`; anything else as `NAME`, a
    /// little-endian 64-bit length and the raw bytes. A blank line ends the entry.
    var exported: [UInt8] {
        var bytes: [UInt8] = []
        for (name, value) in fields {
            bytes += name.utf8
            if value.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
                bytes += "=".utf8
            } else {
                bytes += "\n".utf8
                withUnsafeBytes(of: UInt64(value.count).littleEndian) { bytes += $0 }
            }
            bytes += value + "\n".utf8
        }
        return bytes + "\n".utf8
    }
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
        let remote = Process()
        remote.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journal-remote")
        remote.arguments = ["--output=" + path, "-"]
        let input = Pipe()
        remote.standardInput = input
        remote.standardError = FileHandle.nullDevice
        try remote.run()
        try input.fileHandleForWriting.write(contentsOf: entries.flatMap(\.exported))
        try input.fileHandleForWriting.close()
        remote.waitUntilExit()
        try #require(remote.terminationStatus == 0, "systemd-journal-remote (package systemd-journal-remote) failed")
    }
}
