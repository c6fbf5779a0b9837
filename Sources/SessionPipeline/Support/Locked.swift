#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a `pthread_mutex_t`.
///
/// The library's shared state uses this rather than the standard library's `Mutex`: on Linux,
/// `Mutex` hands a contended lock over through the kernel's priority-inheritance futex, a path
/// ThreadSanitizer cannot see, so it reports the state the mutex protects as raced whenever two
/// threads contend. ThreadSanitizer intercepts `pthread_mutex_lock`, so the concurrency tests run
/// under it with every lock visible (see docs/RELIABILITY.md).
final class Locked<Value>: @unchecked Sendable {
    // @unchecked Sendable: the value is only reached through `withLock`, under the mutex.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// A lock holding `value`.
    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        _ = pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
