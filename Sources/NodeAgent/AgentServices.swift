import FairShare
import Foundation
import LogModel
import Logging
import RingStore
import ServiceLifecycle

/// Ingest of pod logs or of the journal: blocking file I/O, on a thread of its own between
/// `start()` and `stop()`.
protocol IngestThread: Sendable {
    func start()
    /// Returns once the thread has stopped, after the turn in progress.
    func stop()
}

extension Ingestor: IngestThread {}
extension JournalIngest: IngestThread {}

/// Runs an ingest thread for as long as the service group runs; joining it is blocking, so the
/// stop waits on the maintenance pool.
struct IngestService: Service {
    let ingest: any IngestThread
    let upkeep: FairPool

    func run() async throws {
        ingest.start()
        try? await gracefulShutdown()
        await upkeep.run(":ingest") { ingest.stop() }
    }
}

/// Applies the retention policy now and then, on the maintenance pool: eviction erases files
/// and waits for a fold in progress, neither of which may hold a thread that serves requests.
struct RetentionService: Service {
    let store: RingDirectory
    let inventory: Inventory
    /// Where an evicted run's container is recorded, so that a restart does not read it in again.
    let retired: RetiredContainers
    let metrics: AgentMetrics
    let policy: RetentionPolicy
    let interval: Duration
    let upkeep: FairPool
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await upkeep.run(":retention") { [store, inventory, retired, metrics, policy, logger] in
                do {
                    let evictions = try store.enforce(policy, now: NanoTime.now()) { metadata in
                        do {
                            try retired.add(metadata.compactMap(\.containerKey))
                        } catch {
                            // Evicted all the same: a full disk must get its space back.
                            AgentFailure.retiredContainers.record(error, logger: logger, ["rings": "\(metadata.count)"])
                        }
                    }
                    for eviction in evictions {
                        eviction.rings.forEach(inventory.remove)
                        metrics.evicted(eviction)
                        logger.info("evicted a run", metadata: ["tool": "\(eviction.tool)", "kind": "\(eviction.kind.rawValue)",
                                                              "name": "\(eviction.name)", "run": "\(eviction.run)",
                                                              "bytes": "\(eviction.bytes)", "reason": "\(eviction.reason.rawValue)"])
                    }
                } catch {
                    logger.error("retention failed", metadata: ["error": "\(error)"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// Folds finished small runs into their jobs' history files (docs/ring-format.md, "History
/// files") every `interval`, on the maintenance pool: copying and syncing are blocking I/O, and
/// must not hold a thread that serves requests. A run keeps its id, so the inventory only
/// tells the gateway that its size on disk changed.
struct FoldService: Service {
    let store: RingDirectory
    let inventory: Inventory
    /// Where a folding run's container is recorded first: a folded run is not held in memory,
    /// so the ingest learns there that its log files, still on the node, were read.
    let retired: RetiredContainers
    let policy: FoldPolicy
    var interval: Duration = .seconds(15)
    let upkeep: FairPool
    let logger: Logger

    /// A pass at start, then every `interval`: runs that became due while the agent was down
    /// fold at once.
    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await upkeep.run(":folding") { [store, inventory, retired, policy, logger] in
                do {
                    let folded = try store.fold(policy, now: NanoTime.now()) { metadata in
                        // Not folded when this fails: a restart would read the runs in again.
                        try retired.add(metadata.compactMap(\.containerKey))
                    }
                    folded.forEach(inventory.touch)
                    if !folded.isEmpty { logger.debug("folded finished runs", metadata: ["runs": "\(folded.count)"]) }
                } catch {
                    logger.error("folding finished runs failed", metadata: ["error": "\(error)"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// Forces what ingest wrote to disk every `interval`, and once more when the agent stops. An
/// `fdatasync` can block for tens of milliseconds; made on the ingest thread, it held up every
/// container's lines behind it (docs/reliability.md). First it seals the open blocks of rings
/// that went quiet (docs/ring-format.md), which compresses them off the ingest thread too.
struct SyncService: Service {
    let store: RingDirectory
    let interval: Duration
    let upkeep: FairPool
    let logger: Logger

    func run() async throws {
        repeat {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await upkeep.run(":sync") { [store, logger] in
                do {
                    try store.sealIdleBlocks()
                } catch {
                    logger.error("sealing idle blocks failed", metadata: ["error": "\(error)"])
                }
                do {
                    try store.sync()
                } catch {
                    logger.error("sync of the data directory failed", metadata: ["error": "\(error)"])
                }
            }
        } while !Task.isCancelled && !Task.isShuttingDownGracefully
    }
}

/// Stops a pool's threads when the agent stops.
struct FairPoolService: Service {
    let pool: FairPool

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}
