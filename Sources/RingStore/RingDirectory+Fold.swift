import Foundation

/// Which finished rings fold into their jobs' history files (docs/ring-format.md, "History files").
public struct FoldPolicy: Sendable, Equatable {
    /// How long a ring has been finished before it folds: what the agent learns late about a
    /// run (its exit code) lands in the ring file first.
    public var after: Duration
    /// Rings with more bytes of frames than this keep their ring files: their header is a small
    /// part of them, and copying megabytes buys nothing.
    public var maxBytes: UInt64
    /// Rings folded in one go, at most: a purge waits for the fold in progress.
    public var batch: Int

    public init(after: Duration = .seconds(60), maxBytes: UInt64 = 256 * 1024, batch: Int = 500) {
        self.after = after
        self.maxBytes = maxBytes
        self.batch = batch
    }

    /// Job runs fold; custom sources and activity are never finished runs of a job.
    static let kinds: Set<RingKind> = [.continuous, .scheduled, .oneoff, .webservice, .build]

    func isDue(_ metadata: RingMetadata, lastTimestamp: Int64?, createdAt: Int64, now: Int64) -> Bool {
        let ended = metadata.finishedAt ?? lastTimestamp ?? createdAt
        let (seconds, attoseconds) = after.components
        return FoldPolicy.kinds.contains(metadata.kind) && ended <= now - seconds * 1_000_000_000 - attoseconds / 1_000_000_000
    }
}

extension RingDirectory {
    /// The jobs whose finished runs are folded here, one each however many runs it keeps: what
    /// the agent's inventory names instead of listing every folded run.
    public var foldedJobs: Set<JobKey> { openHistories.withLock { Set($0.values.map(\.job)) } }

    /// Folds finished rings that `policy` says are due into their jobs' history files, at most
    /// `policy.batch`; returns the ids folded (each keeps its id: it is listed and read as before).
    /// Blocking file I/O and two syncs per job: the agent calls it on a thread of its own. A
    /// purge waits for the job being folded, not for the whole pass. Every job is tried; the
    /// first failure is thrown after.
    @discardableResult
    public func fold(_ policy: FoldPolicy, now: Int64) throws -> [RingID] {
        let skip = unfoldable.withLock { $0 }
        let due = rings(matching: RingFilter(finished: true)).filter { ring in
            guard !skip.contains(ring.id), ring.isFoldCandidate(maxBytes: policy.maxBytes), let info = try? ring.info() else { return false }
            return policy.isDue(info.metadata, lastTimestamp: info.lastTimestamp, createdAt: info.createdAt, now: now)
        }
        var folded: [RingID] = []
        var failure: (any Error)?
        for (job, group) in Dictionary(grouping: due.prefix(policy.batch), by: { JobKey($0.metadata) }) {
            do {
                // Images are made before the lock (reading and compressing a job's runs is the
                // slow part); the lock then checks each ring is still the one imaged.
                let images = try images(of: group, policy: policy)
                folded += try maintenance.withLock { _ in try fold(images, into: job, now: now) }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return folded
    }

    /// The rings' images in the order their runs ended: retention evicts oldest first, so the
    /// history's front moves and its pages go back, rather than holes punched here and there.
    private func images(of group: [Ring], policy: FoldPolicy) throws -> [(Ring, FoldImage)] {
        let ordered = group.map { ring in (ring, (try? ring.info()).map { $0.metadata.finishedAt ?? $0.lastTimestamp ?? $0.createdAt } ?? 0) }
            .sorted { ($0.1, $0.0.metadata.run) < ($1.1, $1.0.metadata.run) }.map(\.0)
        var images: [(Ring, FoldImage)] = []
        for ring in ordered {
            if let image = try ring.foldImage(maxBytes: policy.maxBytes) {
                images.append((ring, image))
            } else {
                unfoldable.withLock { _ = $0.insert(ring.id) }
            }
        }
        return images
    }

    /// Appends the images of rings still in the directory to the job's history, serves those
    /// rings from it, then removes their files. Called with `maintenance` held.
    private func fold(_ imaged: [(Ring, FoldImage)], into job: JobKey, now: Int64) throws -> [RingID] {
        let images = imaged.filter { ring, _ in rings.withLock { $0[ring.id] === ring } }.map(\.1)
        guard !images.isEmpty else { return [] }
        let history = try historyOfJob.withLock { $0[job] } ?? {
            let created = try HistoryFile.create(in: historyPath, job: job, now: now)
            historyOfJob.withLock { $0[job] = created }
            openHistories.withLock { $0[created.id] = created }
            return created
        }()
        let entries = try history.append(images)
        for entry in entries {
            let ring = try Ring(folded: entry, in: history)
            // A reader that took the ring file's object keeps reading it: its descriptor outlives the unlink.
            if let replaced = rings.withLock({ $0.updateValue(ring, forKey: ring.id) }) { unlink(replaced.path) }
        }
        // The unlinks reach the disk with the directory's next sync (or a purge's, before it answers).
        entriesChanged.store(true, ordering: .releasing)
        return entries.map(\.superblock.id)
    }
}
