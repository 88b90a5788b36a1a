#if canImport(Glibc)
import Glibc
#endif

/// Every failure of the ring store, with the path it concerns, in words an operator can act on.
public enum RingStoreError: Error, Equatable, CustomStringConvertible {
    case io(operation: String, path: String, errno: Int32)
    case notARingFile(path: String)
    case unsupportedVersion(path: String, major: UInt16)
    case corruptHeader(path: String)
    case invalidCapacity(String)
    case lockedByAnotherWriter(path: String)
    case readOnly(path: String)
    case finished(path: String)
    case metadataTooLarge(bytes: Int, limit: Int)
    case sourcePositionTooLarge(bytes: Int, limit: Int)
    case unknownRing(String)
    case invalidCursor(String)

    public var description: String {
        switch self {
        case let .io(operation, path, code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        case let .notARingFile(path):
            return "\(path) is not a ring file (bad magic)"
        case let .unsupportedVersion(path, major):
            return "\(path) has ring format version \(major); this build reads version \(RingFormat.newestVersion.rawValue) and older"
        case let .corruptHeader(path):
            return "\(path) has a corrupt header"
        case let .invalidCapacity(reason):
            return "invalid ring capacity: \(reason)"
        case let .lockedByAnotherWriter(path):
            return "\(path) is open for writing by another process"
        case let .readOnly(path):
            return "\(path) was opened read-only"
        case let .finished(path):
            return "\(path) is finished and takes no more records"
        case let .metadataTooLarge(bytes, limit):
            return "ring metadata is \(bytes) bytes; the limit is \(limit)"
        case let .sourcePositionTooLarge(bytes, limit):
            return "source position is \(bytes) bytes; the limit is \(limit)"
        case let .unknownRing(id):
            return "no ring \(id)"
        case let .invalidCursor(text):
            return "invalid cursor \"\(text)\""
        }
    }
}
