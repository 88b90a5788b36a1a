#if canImport(Glibc)
import Glibc
#endif

/// A failed libsystemd call. libsystemd reports errors as negative errno values; `errno` holds
/// the positive one so that callers can match on it (`ENOENT`, `EADDRNOTAVAIL`, ...).
public enum JournalError: Error, Equatable, CustomStringConvertible {
    case failed(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .failed(operation, code):
            return "\(operation): \(String(cString: strerror(code)))"
        }
    }
}
