/// Suspends the calling task until a waker resumes it, the way bounded streams and the gateway's pulls
/// wait. `park` runs at once, under the caller's lock: it either stores the continuation where
/// a waker will find it and returns true, or returns false when there is no need to wait (the
/// awaited state is already there, or the task is cancelled: checked under the same lock, so
/// that a cancellation can never slip between the check and the parking). On cancellation,
/// `unpark` takes a parked continuation back, under that lock, and it is resumed.
public func suspend(park: (CheckedContinuation<Void, Never>) -> Bool,
             unpark: @escaping @Sendable () -> CheckedContinuation<Void, Never>?) async {
    await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            if !park(continuation) { continuation.resume() }
        }
    } onCancel: {
        unpark()?.resume()
    }
}
