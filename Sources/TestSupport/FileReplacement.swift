import Foundation

extension String {
    /// Replaces a file's content at once, as `mv` does (a reader sees the old file or the new
    /// one): Foundation's `write(toFile:atomically: true)` on Linux leaves an empty
    /// `/tmp/TemporaryDirectory.*` behind at every call.
    public func replace(file path: String) throws {
        let next = path + ".next"
        try write(toFile: next, atomically: false, encoding: .utf8)
        guard rename(next, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
