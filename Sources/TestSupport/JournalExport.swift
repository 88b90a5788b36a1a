import Foundation

/// One journal entry in the journal export format, as tests feed `systemd-journal-remote` to
/// make real journal files: its fields in order.
public struct JournalExportEntry: Sendable {
    public var fields: [(name: String, value: [UInt8])]

    public init(_ fields: [(name: String, value: [UInt8])]) { self.fields = fields }

    public func value(_ name: String) -> [UInt8]? { fields.first { $0.name == name }?.value }

    /// Printable fields as `NAME=value`; anything else as `NAME`, a little-endian 64-bit length
    /// and the raw bytes. A blank line ends the entry.
    public var exported: [UInt8] {
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

public enum JournalExport {
    /// Writes `entries` into a real journal file at `path` (its name must end in `.journal`)
    /// with `systemd-journal-remote` (Debian package `systemd-journal-remote`).
    public static func write(_ entries: [JournalExportEntry], to path: String) throws {
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
        guard remote.terminationStatus == 0 else { throw JournalExportError() }
    }
}

public struct JournalExportError: Error, CustomStringConvertible {
    public var description: String { "systemd-journal-remote (package systemd-journal-remote) failed" }
}
