/// Most log lines are ASCII, which is valid UTF-8 with nothing more to check: told eight bytes
/// at a time, before anything slower looks at a line.
public enum UTF8Check {
    public static func isASCII(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var index = 0
            var bits: UInt64 = 0
            while index + 8 <= raw.count {
                bits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < raw.count {
                bits |= UInt64(raw[index])
                index += 1
            }
            return bits & 0x8080_8080_8080_8080 == 0
        }
    }
}
