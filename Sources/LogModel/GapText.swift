import Foundation

/// How a gap is told to a person: `… 12,345 lines (3.1 MiB) not kept (rolled over) …`. The
/// gateway puts it in a gap's `message` (the platform's clients print only that), and the CLI
/// prints it too.
public enum GapText {
    public static func describe(records: Int, bytes: Int?, reason: String?) -> String {
        var text = "… \(grouped(records)) line\(records == 1 ? "" : "s")"
        if let bytes, bytes > 0 { text += " (\(ByteCount.text(bytes)))" }
        text += " not kept"
        if let reason { text += " (\(reason))" }
        return text + " …"
    }

    /// `1234567` as `1,234,567`.
    public static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        return String(digits.enumerated().flatMap { index, digit in
            index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
        })
    }
}

extension LogItem {
    /// A gap's text, as `GapText` tells it.
    public var gapDescription: String {
        GapText.describe(records: Int(clamping: records ?? 0), bytes: bytes.map { Int(clamping: $0) }, reason: reason)
    }
}

/// Sizes in binary units, as the agent's flags take them (`--budget-bytes 20GiB`) and `du -h`
/// prints them.
public enum ByteCount {
    public static func text(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// Below this on disk, a ratio says how big the files' fixed headers and staging are, not
    /// how well logs are kept: 140 KiB of rings holding 5 KiB of log showed as `0.0x`.
    public static let ratioFloor = 1 << 20

    /// Log bytes held per byte of disk, e.g. `6.2x`; `-` under `ratioFloor` on disk.
    public static func ratio(_ kept: Int, _ stored: Int) -> String {
        stored < ratioFloor ? "-" : String(format: "%.1fx", Double(kept) / Double(stored))
    }
}
