import Foundation
import RingStore

/// RingStore benchmarks, each side by side with its limit in the same run:
///   append 1 M records of ~120 bytes   vs  the same bytes through plain write(2), same batching
///   last 1,000 records of 1 M           (absolute; `tail -n 1000` of the same lines for scale)
///   time seek in 1 M and in 10 M        (the ratio shows the seek is logarithmic)
/// Usage: ringstore-bench [--quick] [--dir DIR]. Prints a Markdown table.
@main
struct RingStoreBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        let quick = arguments.contains("--quick")
        let directory = arguments.firstIndex(of: "--dir").map { arguments[$0 + 1] }
            ?? NSTemporaryDirectory() + "ringstore-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bench = RingStoreBench(directory: directory, small: quick ? 100_000 : 1_000_000, rounds: quick ? 3 : 5)
        try bench.run()
    }

    let directory: String
    let small: Int
    let rounds: Int
    var large: Int { small * 10 }

    func payloads(_ count: Int) -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 ".utf8)
        let template = (0..<4096).map { _ in alphabet.randomElement(using: &generator)! }
        return (0..<count).map { index in
            let length = 100 + index % 41  // ~120 bytes on average, like the CRI data set's lines
            let start = (index * 131) % (template.count - length)
            return Array(template[start..<(start + length)])
        }
    }

    func run() throws {
        print("| benchmark | ring store | peer (same run) | ratio |")
        print("|---|---|---|---|")
        let lines = payloads(small)
        for batch in [64, 1] {
            var ringRates: [Double] = []
            var plainRates: [Double] = []
            let totalBytes = Double(lines.reduce(0) { $0 + $1.count })
            for round in 0..<rounds {
                plainRates.append(totalBytes / (try timePlainWrite(lines, batch: batch, round: round)))
                ringRates.append(totalBytes / (try timeRingAppend(lines, batch: batch, round: round)))
            }
            let ring = Summary(ringRates), plain = Summary(plainRates)
            print("| append \(small.formatted()) records of ~120 B, \(batch) per call | \(ring.megabytes) | write(2): \(plain.megabytes) | \(ratio(ringRates, plainRates)) of write(2) |")
        }

        let smallRing = try fill(records: small, name: "seek-small.ring", lines: lines)
        let tailFile = directory + "/lines.txt"
        try Data(lines.flatMap { $0 + [10] }).write(to: URL(fileURLWithPath: tailFile))
        let lastRing = Summary(try (0..<rounds * 20).map { _ in try measure { _ = try smallRing.read(ReadRequest(start: .last(1000))) } })
        let lastTail = Summary(try (0..<rounds * 4).map { _ in try measure { try runTail(tailFile) } })
        print("| last 1,000 of \(small.formatted()) records (in process) | \(lastRing.milliseconds) | `tail -n 1000` process: \(lastTail.milliseconds) | \(String(format: "%.2fx", lastTail.median / lastRing.median)) faster |")

        let largeRing = try fill(records: large, name: "seek-large.ring", lines: lines)
        let seekSmall = try seekTimes(smallRing, records: small)
        let seekLarge = try seekTimes(largeRing, records: large)
        print("| time seek + read 1 record, \(small.formatted()) records | \(Summary(seekSmall).microseconds) | | |")
        print("| time seek + read 1 record, \(large.formatted()) records | \(Summary(seekLarge).microseconds) | | \(String(format: "%.2fx", Summary(seekLarge).median / Summary(seekSmall).median)) of \(small.formatted()) (target <= 2x) |")
    }

    func timePlainWrite(_ lines: [[UInt8]], batch: Int, round: Int) throws -> Double {
        let path = directory + "/plain-\(round).log"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        defer { close(fd); unlink(path) }
        let batches = stride(from: 0, to: lines.count, by: batch).map { Array(lines[$0..<min($0 + batch, lines.count)].joined()) }
        return try measure {
            for bytes in batches { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        }
    }

    func timeRingAppend(_ lines: [[UInt8]], batch: Int, round: Int) throws -> Double {
        let path = directory + "/append-\(round).ring"
        defer { unlink(path) }
        let ring = try Ring.create(path: path, prefixCapacity: 1 << 20, suffixCapacity: 1 << 30, metadata: Self.metadata, createdAt: 0)
        let batches = stride(from: 0, to: lines.count, by: batch).map { start in
            (start..<min(start + batch, lines.count)).map {
                AppendEntry.line(timestamp: Int64($0), stream: .stdout, flags: [], payload: lines[$0])
            }
        }
        let position: [UInt8] = Array(repeating: 7, count: 24)
        return try measure {
            for entries in batches { try ring.append(entries, sourcePosition: position) }
        }
    }

    static let metadata = RingMetadata(tool: "bench", kind: .continuous, name: "bench", run: "bench")

    func fill(records: Int, name: String, lines: [[UInt8]]) throws -> Ring {
        let ring = try Ring.create(path: directory + "/" + name, prefixCapacity: 1 << 20,
                                   suffixCapacity: UInt64(records) * 200, metadata: Self.metadata, createdAt: 0)
        var seq = 0
        while seq < records {
            let entries = (seq..<min(seq + 256, records)).map {
                AppendEntry.line(timestamp: Int64($0) * 1000, stream: .stdout, flags: [], payload: lines[$0 % lines.count])
            }
            try ring.append(entries)
            seq += entries.count
        }
        return ring
    }

    func seekTimes(_ ring: Ring, records: Int) throws -> [Double] {
        var generator = SystemRandomNumberGenerator()
        return try (0..<rounds * 100).map { _ in
            let target = Int64.random(in: 0..<Int64(records), using: &generator) * 1000
            return try measure {
                let result = try ring.read(ReadRequest(start: .time(target), maxItems: 1))
                precondition(result.records.first?.timestamp == target)
            }
        }
    }

    /// `tail -n 1000 FILE > /dev/null`, spawned directly (Foundation's Process adds ~50 ms).
    func runTail(_ file: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let words: [String] = ["tail", "-n", "1000", file]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { word in strdup(word) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/tail", &actions, nil, argv, environ) == 0 else {
            throw POSIXError(.ENOENT)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    func measure(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func ratio(_ ours: [Double], _ theirs: [Double]) -> String {
        let ratios = zip(ours, theirs).map { $0 / $1 }.sorted()
        return String(format: "%.0f %% (min %.0f, max %.0f)", ratios[ratios.count / 2] * 100, ratios.first! * 100, ratios.last! * 100)
    }
}

/// Median, min and max of repeated measurements: these machines are noisy.
struct Summary {
    let median: Double, min: Double, max: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        median = sorted[sorted.count / 2]
        min = sorted.first!
        max = sorted.last!
    }

    var megabytes: String { String(format: "%.0f MB/s (%.0f–%.0f)", median / 1e6, min / 1e6, max / 1e6) }
    var milliseconds: String { String(format: "%.2f ms (%.2f–%.2f)", median * 1e3, min * 1e3, max * 1e3) }
    var microseconds: String { String(format: "%.1f µs (%.1f–%.1f)", median * 1e6, min * 1e6, max * 1e6) }
}
