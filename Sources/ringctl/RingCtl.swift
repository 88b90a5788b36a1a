import ArgumentParser
import Foundation
import RingStore
import Synchronization

/// Looks inside ring files: for operators on a node, and for the crash tests that drive a
/// writer from outside.
@main
struct RingCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringctl",
        abstract: "Inspect, verify and load toolforge-logs ring files.",
        subcommands: [Info.self, Dump.self, Verify.self, WriteLoad.self, FoldLoad.self]
    )
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print what a ring holds: metadata, capacities, counters.")

    @Argument(help: "Ring files.") var files: [String]

    func run() throws {
        for file in files {
            let info = try Ring.open(path: file, writable: false).info()
            let meta = info.metadata
            print("""
            \(file)
              id \(info.id)  \(info.finished ? "finished" : "live")  format \(info.version.rawValue)\(info.blockSize > 0 ? ", blocks of \(info.blockSize) B" : "")
              tool \(meta.tool)  kind \(meta.kind.rawValue)  name \(meta.name)  run \(meta.run)  segment \(meta.segment)
              pod \(meta.pod ?? "-")  container \(meta.container ?? "-")  node \(meta.node ?? "-")  exit \(meta.exitCode.map(String.init) ?? "-") \(meta.reason ?? "")
              prefix \(info.prefixCapacity) B, records \(info.prefixRecords)  suffix \(info.suffixCapacity) B, records \(info.suffixRecords)
              written \(info.counters.recordsWritten) records, \(info.counters.bytesWritten) B  rolled \(info.counters.rolledRecords) records, \(info.counters.rolledBytes) B
              dropped \(info.counters.droppedRecords) lines, \(info.counters.droppedBytes) B  truncated \(info.counters.truncatedRecords)
              original \(info.keptBytes) B  stored \(info.diskBytes) B on disk  ratio \(String(format: "%.2f", info.compressionRatio))x
            """)
        }
    }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a ring's records as text, gaps included.")

    @Argument(help: "A ring file.") var file: String
    @Option(name: [.customShort("n"), .long], help: "Only the last N records.") var lines: Int?
    @Option(help: "Start at this sequence number.") var from: UInt64?

    func run() throws {
        let ring = try Ring.open(path: file, writable: false)
        let start: ReadRequest.Start = lines.map { .last($0) } ?? from.map { .seq($0) } ?? .beginning
        var request = ReadRequest(start: start, maxItems: 10_000)
        while true {
            let result = try ring.read(request)
            for item in result.items { print(Self.describe(item)) }
            guard result.end == .limit else { break }
            request = ReadRequest(start: .seq(result.next), maxItems: 10_000)
        }
    }

    static func describe(_ item: ReadItem) -> String {
        switch item {
        case let .record(record):
            let flags = [record.flags.contains(.partial) ? "P" : "F", record.flags.contains(.truncated) ? "T" : ""].joined()
            return "\(record.seq) \(record.timestamp) \(record.stream) \(flags) \(String(decoding: record.payload, as: UTF8.self))"
        case let .gap(gap):
            return "\(gap.seq) -- gap: \(gap.records) records, \(gap.bytes.map { "\($0) bytes" } ?? "size unknown") not kept (\(gap.reason))"
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read every record; exit 1 if any part of the file is damaged.")

    @Argument(help: "Ring files.") var files: [String]

    func run() throws {
        var damaged = false
        for file in files {
            let ring = try Ring.open(path: file, writable: false)
            var next: UInt64 = 0
            var records = 0
            var corrupt: UInt64 = 0
            while true {
                let result = try ring.read(ReadRequest(start: .seq(next), maxItems: 10_000))
                for item in result.items {
                    switch item {
                    case .record: records += 1
                    case let .gap(gap) where gap.reason == .corrupt: corrupt += gap.records
                    case .gap: break
                    }
                }
                next = result.next
                if result.end != .limit { break }
            }
            print("\(file): \(records) records readable, \(corrupt) lost to damage")
            damaged = damaged || corrupt > 0
        }
        if damaged { throw ExitCode.failure }
    }
}

/// Appends records whose content follows from their sequence number, as fast as it can, with
/// the record count as the source position: a crash test can then check every record read back.
struct WriteLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-load",
        abstract: "Append self-describing test records at full speed (for crash tests and benchmarks).")

    @Argument(help: "The ring file; created if missing.") var file: String
    @Option(help: "Records to append (0: until killed).") var records = 0
    @Option(help: "Records per append.") var batch = 16
    @Option(help: "Prefix capacity for a new file.") var prefix: UInt64 = 64 * 1024
    @Option(help: "Suffix capacity for a new file.") var suffix: UInt64 = 256 * 1024
    @Option(help: "Ring file format of a new file (1 or 2).") var format: UInt16 = RingFileVersion.newest.rawValue

    static func version(_ number: UInt16) throws -> RingFileVersion {
        guard let version = RingFileVersion(rawValue: number) else { throw ValidationError("--format: 1 or 2, not \(number)") }
        return version
    }

    /// `<seq>:` then a letter repeated to a length that varies with the sequence number.
    static func payload(_ seq: UInt64) -> [UInt8] {
        let head = Array("\(seq):".utf8)
        return head + [UInt8](repeating: UInt8(ascii: "a") + UInt8(seq % 26), count: Int(20 + seq % 150))
    }

    func run() throws {
        let ring = FileManager.default.fileExists(atPath: file)
            ? try Ring.open(path: file, writable: true)
            : try Ring.create(path: file, prefixCapacity: prefix, suffixCapacity: suffix,
                              metadata: RingMetadata(tool: "load", kind: .custom, name: "load", run: "load"),
                              createdAt: 0, version: try Self.version(format))
        var seq = ring.endSeq
        while records == 0 || seq < UInt64(records) {
            let end = records == 0 ? seq + UInt64(batch) : min(seq + UInt64(batch), UInt64(records))
            let entries = (seq..<end).map {
                AppendEntry.line(timestamp: Int64($0), stream: .stdout, flags: [], payload: Self.payload($0))
            }
            seq = end
            try ring.append(entries, sourcePosition: withUnsafeBytes(of: seq.littleEndian, Array.init))
        }
    }
}

/// Fills a data directory with the folded runs of many scheduled jobs, through the store's own
/// API (create, append, finish, fold), as a node that kept them for days would hold them: for
/// measuring an agent's memory and start over millions of runs (bench/node_history.py).
struct FoldLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold-load",
        abstract: "Write and fold the runs of tools x jobs scheduled jobs into a data directory (for benchmarks).")

    @Argument(help: "The data directory; created if missing.") var directory: String
    @Option(help: "Tools.") var tools = 200
    @Option(help: "Scheduled jobs per tool.") var jobs = 5
    @Option(help: "Runs per job.") var runs = 4032
    @Option(help: "Lines per run.") var lines = 20
    @Option(help: "Minutes between a job's runs.") var every = 5
    @Option(help: "Runs created, then folded, in one go.") var batch = 2000

    @Option(help: "Threads writing (each a share of the tools).") var threads = 2
    @Option(help: "The first run's number: nodes that share a job's runs each write a slice of them.") var firstRun = 0
    @Option(help: "Runs of the whole job, across nodes (default: --runs); the last ended now.") var totalRuns: Int?
    @Option(help: "The newest runs of each job left in their ring files, not folded.") var unfolded = 0

    func run() throws {
        let store = try RingDirectory(path: directory)
        let start = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let failure = Mutex<(any Error)?>(nil)
        let folded = firstRun..<(firstRun + runs - min(unfolded, runs))
        DispatchQueue.concurrentPerform(iterations: threads) { share in
            do {
                try write(store, tools: Array(stride(from: share, to: tools, by: threads)), runs: folded, fold: true, now: now)
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        try foldAll(store, now: now)
        try write(store, tools: Array(0..<tools), runs: folded.upperBound..<(firstRun + runs), fold: false, now: now)
        try store.sync()
        let seconds = Double((ContinuousClock.now - start).components.seconds)
        let written = tools * jobs * runs
        print("wrote and folded \(written) runs in \(Int(seconds)) s (\(Int(Double(written) / max(seconds, 1))) runs/s, \(threads) threads)")
    }

    /// The runs `runs` of `tools`' jobs, oldest first, folded every `batch` runs when `fold`.
    private func write(_ store: RingDirectory, tools: [Int], runs: Range<Int>, fold: Bool, now: Int64) throws {
        let first = now - Int64((totalRuns ?? self.runs) * every) * 60_000_000_000
        var written = 0
        for run in runs {
            let at = first + Int64(run * every) * 60_000_000_000
            for tool in tools {
                for job in 0..<jobs {
                    let name = "job-\(job)"
                    let metadata = RingMetadata(tool: "tool-\(tool)", kind: .scheduled, name: name, run: "\(name)-\(29_000_000 + run * every)",
                                                namespace: "tool-tool-\(tool)", pod: "\(name)-\(29_000_000 + run * every)-x7k2p",
                                                container: "job", startedAt: at, finishedAt: at + 2_000_000_000,
                                                exitCode: (run + tool + job) % 97 == 0 ? 1 : 0, reason: nil)
                    let ring = try store.create(metadata: metadata, prefixCapacity: 1 << 20, suffixCapacity: 15 << 20, now: at)
                    try ring.append((0..<lines).map { line in
                        .line(timestamp: at + Int64(line) * 50_000_000, stream: line % 7 == 0 ? .stderr : .stdout, flags: [],
                              payload: Array("run \(run) line \(line): GET /api/v1/items/\((run * 7919 + line * 31) % 10007) \(200 + line % 3) \((run + line) % 997)ms".utf8))
                    })
                    try ring.finish()
                    written += 1
                    if fold, written % batch == 0 { try foldAll(store, now: now) }
                }
            }
        }
    }

    private func foldAll(_ store: RingDirectory, now: Int64) throws {
        while try !store.fold(FoldPolicy(after: .zero, batch: batch), now: now).isEmpty {}
    }
}
