/// A point in time as users write it: an RFC 3339 time, or how long ago (`90s`, `10m`, `2h`,
/// `3d`, or combined as `1h30m`), or integer nanoseconds since the epoch (what programs send).
public enum TimeSpec {
    static let units: [UInt8: Int64] = [
        UInt8(ascii: "s"): 1_000_000_000, UInt8(ascii: "m"): 60_000_000_000,
        UInt8(ascii: "h"): 3_600_000_000_000, UInt8(ascii: "d"): 86_400_000_000_000,
    ]

    /// Nanoseconds since the epoch, or nil when the text is none of the accepted forms.
    public static func resolve(_ text: String, now: Int64) -> Int64? {
        if let nanos = Int64(text), nanos >= 0 { return nanos }
        if let ago = duration(text) { return now - ago }
        return NanoTime.parse(text)
    }

    /// `90s`, `10m`, `2h`, `3d`, `1h30m` as nanoseconds; nil for anything else.
    public static func duration(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64?
        for byte in text.utf8 {
            if let digit = byte.asciiDigit {
                let (scaled, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                number = scaled + digit
            } else if let unit = units[byte], let value = number {
                let (part, overflow) = value.multipliedReportingOverflow(by: unit)
                guard !overflow, !total.addingReportingOverflow(part).overflow else { return nil }
                total += part
                number = nil
            } else {
                return nil
            }
        }
        return number == nil && !text.isEmpty ? total : nil
    }
}

extension UInt8 {
    var asciiDigit: Int64? { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) ? Int64(self - UInt8(ascii: "0")) : nil }
}
