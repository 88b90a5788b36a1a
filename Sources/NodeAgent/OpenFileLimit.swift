import Foundation

/// The agent holds two descriptors per followed container (its log and its ring), so the
/// open-file limit bounds how many containers a node's agent can follow. At the limit it can
/// neither follow a new container nor accept a connection; health says so before that.
public enum OpenFileLimit {
    /// Glibc's enum case, as the C type its functions take.
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    /// Raises the soft limit to the hard one, as the kernel lets any process do (the soft
    /// default, 1,024 in many shells, is 500 containers). Returns the limit now in force.
    @discardableResult
    public static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return -1 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    static var current: Int {
        var limit = rlimit()
        return getrlimit(resource, &limit) == 0 ? Int(clamping: limit.rlim_cur) : -1
    }

    /// Descriptors this process has open.
    static func open() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// A warning once nine tenths of the limit are in use.
    static func warning(open: Int = open(), limit: Int = current) -> String? {
        guard open >= 0, limit > 0, open * 10 >= limit * 9 else { return nil }
        return "\(open) of \(limit) file descriptors are open (two per followed container): "
            + "new containers and connections fail at the limit; raise LimitNOFILE"
    }
}
