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
        // A run index record holds an entry of up to 4 MiB, descriptor included.
        self.maxBytes = Swift.min(maxBytes, 3 * 1024 * 1024)
        self.batch = batch
    }

    /// Job runs fold; custom sources and activity are never finished runs of a job.
    static let kinds: Set<RingKind> = [.continuous, .scheduled, .oneoff, .webservice, .build]

    /// The journal's runs keep their ring files: its ingest resumes from the position their
    /// state keeps, which a folded run's record does not.
    func isDue(_ metadata: RingMetadata, lastTimestamp: Int64?, createdAt: Int64, now: Int64) -> Bool {
        let ended = metadata.finishedAt ?? lastTimestamp ?? createdAt
        let (seconds, attoseconds) = after.components
        return FoldPolicy.kinds.contains(metadata.kind) && metadata.journalKey == nil
            && ended <= now - seconds * 1_000_000_000 - attoseconds / 1_000_000_000
    }
}

extension RingDirectory {
    /// The jobs whose finished runs are folded here, one each however many runs it keeps: what
    /// the agent's inventory names instead of listing every folded run.
    public var foldedJobs: Set<JobKey> { histories.withLock { Set($0.byNumber.values.map(\.job)) } }

    /// Folds finished rings that `policy` says are due into their jobs' history files, at most
    /// `policy.batch`; returns the ids folded (each keeps its id: it is listed and read as before).
    /// `beforeFolding` is given their metadata first, once: a folded run is not held in memory,
    /// so what the caller must remember of it (the agent, which containers not to read in
    /// again) is recorded while its ring file is still there. Blocking file I/O and two syncs
    /// per job: the agent calls it on a thread of its own. A purge waits for the job being
    /// folded, not for the whole pass. Every job is tried; the first failure is thrown after.
    @discardableResult
    public func fold(_ policy: FoldPolicy, now: Int64, beforeFolding: ([RingMetadata]) throws -> Void = { _ in }) throws -> [RingID] {
        let skip = unfoldable.withLock { $0 }
        let due = rings(matching: RingFilter(finished: true, folded: false)).compactMap { ring -> (Ring, Int64)? in
            guard !skip.contains(ring.id), ring.isFoldCandidate(maxBytes: policy.maxBytes), let info = try? ring.info(),
                  policy.isDue(info.metadata, lastTimestamp: info.lastTimestamp, createdAt: info.createdAt, now: now)
            else { return nil }
            return (ring, info.metadata.finishedAt ?? info.lastTimestamp ?? info.createdAt)
        }
        // Oldest first, then each job's in that order (`images`): a history's records are then in
        // the order its runs ended, which retention, reading only a history's front, relies on.
        .sorted { ($0.1, $0.0.metadata.run) < ($1.1, $1.0.metadata.run) }.prefix(policy.batch).map(\.0)
        guard !due.isEmpty else { return [] }
        try beforeFolding(due.map(\.metadata))
        var folded: [RingID] = []
        var failure: (any Error)?
        for (job, group) in Dictionary(grouping: due, by: { JobKey($0.metadata) }) {
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
        let history = try histories.withLock { $0.ofJob[job] } ?? {
            let number = histories.withLock { histories in
                defer { histories.nextNumber += 1 }
                return histories.nextNumber
            }
            let created = try HistoryFile.create(in: historyPath, number: number, job: job, now: now)
            histories.withLock { $0.add(created) }
            return created
        }()
        let records = try history.append(images)
        histories.withLock { histories in
            for record in records { histories.table.insert(record.run.id, .init(history: history.number, record: record.at)) }
        }
        for record in records {
            // A reader that took the ring file's object keeps reading it: its descriptor outlives the unlink.
            if let replaced = rings.withLock({ $0.removeValue(forKey: record.run.id) }) { unlink(replaced.path) }
        }
        // The unlinks reach the disk with the directory's next sync (or a purge's, before it answers).
        entriesChanged.store(true, ordering: .releasing)
        return records.map(\.run.id)
    }
}
