#if canImport(Glibc)
import Glibc
#endif

/// Times as the whole project says them: nanoseconds since the Unix epoch, written as RFC 3339
/// with nine fraction digits in UTC (`2026-11-22T10:00:00.123456789Z`), the CRI log format's own.
public enum NanoTime {
    /// Parses RFC 3339 (`T` or space between date and time, any number of fraction digits,
    /// `Z` or a `±HH:MM` offset). Digits past the ninth fraction digit are ignored.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        Array(text.utf8).withUnsafeBytes { parse($0) }
    }

    /// Parses the bytes of an RFC 3339 time; the CRI parser calls this on every line.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var scanner = DigitScanner(bytes: bytes)
        guard let year = scanner.number(4), scanner.skip("-"), let month = scanner.number(2), scanner.skip("-"),
              let day = scanner.number(2), scanner.skip("T", "t", " "),
              let hour = scanner.number(2), scanner.skip(":"), let minute = scanner.number(2), scanner.skip(":"),
              let second = scanner.number(2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 61
        else { return nil }
        var nanos: Int64 = 0
        if scanner.skip(".") {
            var digits = 0
            while let digit = scanner.digit() {
                if digits < 9 { nanos = nanos * 10 + digit }
                digits += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        var offset: Int64 = 0
        if scanner.skip("Z", "z") {
            offset = 0
        } else if let sign = scanner.sign() {
            guard let hours = scanner.number(2), scanner.skip(":"), let minutes = scanner.number(2), hours < 24, minutes < 60
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard scanner.atEnd else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second - offset
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, !scaled.addingReportingOverflow(nanos).overflow else { return nil }
        return scaled + nanos
    }

    /// `2026-11-22T10:00:00.123456789Z`: fixed width, so the text sorts like the number.
    public static func format(_ nanos: Int64) -> String {
        // Straight into the string's own storage: a listing formats thousands of these, and an
        // array per field made formatting most of a page's cost (measured, docs/performance.md).
        String(unsafeUninitializedCapacity: formattedLength) { write(nanos, into: $0) }
    }

    /// Writes what `format` returns into `out` (at least `formattedLength` bytes); returns its length.
    static func write(_ nanos: Int64, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let seconds = floorDivide(nanos, 1_000_000_000)
        // The remainder, not `nanos - seconds * 10^9`, which overflows near `Int64.min`.
        let remainder = nanos % 1_000_000_000
        let fraction = remainder < 0 ? remainder + 1_000_000_000 : remainder
        let days = floorDivide(seconds, 86400)
        let secondOfDay = seconds - days * 86400
        let (year, month, day) = civil(fromDays: days)
        var end = 0
        func put(_ value: Int64, _ width: Int, then separator: UInt8) {
            var rest = value
            for position in stride(from: end + width - 1, through: end, by: -1) {
                out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            out[end + width] = separator
            end += width + 1
        }
        put(year, 4, then: UInt8(ascii: "-"))
        put(month, 2, then: UInt8(ascii: "-"))
        put(day, 2, then: UInt8(ascii: "T"))
        put(secondOfDay / 3600, 2, then: UInt8(ascii: ":"))
        put(secondOfDay / 60 % 60, 2, then: UInt8(ascii: ":"))
        put(secondOfDay % 60, 2, then: UInt8(ascii: "."))
        put(fraction, 9, then: UInt8(ascii: "Z"))
        return end
    }

    static let formattedLength = 30

    /// Now, from the system's real-time clock.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Division rounding down, for every `value` (a client's time may be as early as `Int64.min`).
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Reads fixed-width decimal fields and separators from ASCII bytes.
struct DigitScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func digit() -> Int64? {
        guard index < bytes.count else { return nil }
        let value = bytes[index] &- UInt8(ascii: "0")
        guard value < 10 else { return nil }
        index += 1
        return Int64(value)
    }

    mutating func number(_ digits: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<digits {
            guard let next = digit() else { return nil }
            value = value * 10 + next
        }
        return value
    }

    mutating func skip(_ characters: Unicode.Scalar...) -> Bool {
        guard index < bytes.count, characters.contains(Unicode.Scalar(bytes[index])) else { return false }
        index += 1
        return true
    }

    mutating func sign() -> Int64? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}
