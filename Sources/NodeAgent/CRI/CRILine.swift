import LogModel
import RingStore

/// One line of a CRI log file: `<RFC3339Nano> <stdout|stderr> <tags> <message>`, where the first
/// tag is `F` (full line) or `P` (partial: the runtime split a long line and the next line
/// continues it); more tags may follow after `:`.
struct CRILine {
    var timestamp: Int64
    var stream: LogStream
    var partial: Bool
    /// Where the message starts in the line.
    var messageStart: Int

    /// Parses a line without its newline; nil when it is not in CRI format.
    static func parse(_ line: UnsafeRawBufferPointer) -> CRILine? {
        guard let timeEnd = line.firstIndex(of: UInt8(ascii: " ")),
              let timestamp = NanoTime.parse(UnsafeRawBufferPointer(rebasing: line[..<timeEnd]))
        else { return nil }
        let streamStart = timeEnd + 1
        guard let streamEnd = line[streamStart...].firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let stream: LogStream
        switch streamEnd - streamStart {
        case 6 where line[streamStart] == UInt8(ascii: "s") && matches(line, streamStart, "stdout"): stream = .stdout
        case 6 where line[streamStart] == UInt8(ascii: "s") && matches(line, streamStart, "stderr"): stream = .stderr
        default: return nil
        }
        let tagStart = streamEnd + 1
        let tagEnd = line[tagStart...].firstIndex(of: UInt8(ascii: " ")) ?? line.count
        let firstTagEnd = line[tagStart..<tagEnd].firstIndex(of: UInt8(ascii: ":")) ?? tagEnd
        guard firstTagEnd - tagStart == 1 else { return nil }
        let partial: Bool
        switch line[tagStart] {
        case UInt8(ascii: "F"): partial = false
        case UInt8(ascii: "P"): partial = true
        default: return nil
        }
        return CRILine(timestamp: timestamp, stream: stream, partial: partial, messageStart: Swift.min(tagEnd + 1, line.count))
    }

    private static func matches(_ line: UnsafeRawBufferPointer, _ start: Int, _ word: StaticString) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        return line[start..<(start + bytes.count)].elementsEqual(bytes)
    }
}
