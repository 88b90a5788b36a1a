import AgentWire
import Foundation

/// Where the agents are: a fixed list of NODE=URL, or every address a DNS name has (the agents'
/// headless Service, which keeps not-ready addresses): each address is asked which node it is.
public enum AgentDiscovery: Sendable {
    case fixed([AgentEndpoint])
    case dns(host: String, port: Int)

    /// The agents' URLs that DNS gives now; none for a fixed list (its agents are known already).
    func addresses() async -> [String] {
        guard case let .dns(host, port) = self else { return [] }
        // getaddrinfo blocks: it runs on a thread of its own, not on the concurrency pool.
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Self.resolve(host, port: port)) }
        }
    }

    static func resolve(_ host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var urls: [String] = []
        var next = list
        while let entry = next?.pointee {
            next = entry.ai_next
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(entry.ai_addr, entry.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let address = String(decoding: text.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
            urls.append("http://" + (address.contains(":") ? "[\(address)]" : address) + ":\(port)")
        }
        var seen = Set<String>()
        return urls.filter { seen.insert($0).inserted }
    }
}
