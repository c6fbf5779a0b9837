import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one source of wall-clock time for a store.
///
/// A driver is created with a clock, and every layer above it reads time from the driver's
/// ``RecordStore/clock``, so a whole pipeline agrees on "now" and tests can move time without
/// sleeping (``ManualClock``). Nothing in the library reads the system clock directly.
public protocol SessionClock: Sendable {
    /// The current time.
    func now() -> UnixTime
}

/// The operating system's real-time clock.
///
/// ```swift
/// let driver = MemoryDriver<[UInt8]>(clock: SystemClock())
/// ```
public struct SystemClock: SessionClock {
    /// Creates the clock.
    public init() {}

    /// Seconds since 1970 from `clock_gettime(CLOCK_REALTIME)`.
    public func now() -> UnixTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UnixTime(seconds: Int64(spec.tv_sec))
    }
}

extension SessionClock where Self == SystemClock {
    /// The operating system's clock.
    public static var system: SystemClock { SystemClock() }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// ```swift
/// let clock = ManualClock(now: 1_700_000_000)
/// let driver = MemoryDriver<[UInt8]>(clock: clock)
/// clock.advance(by: .seconds(3600))
/// ```
public final class ManualClock: SessionClock {
    private let current: Locked<UnixTime>

    /// Creates a clock showing `now`.
    public init(now: UnixTime = 1_700_000_000) {
        self.current = Locked(now)
    }

    /// The time the clock shows.
    public func now() -> UnixTime {
        current.withLock { $0 }
    }

    /// Moves the clock forward (or, with a negative duration, back).
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0 + duration }
    }

    /// Sets the clock to `time`.
    public func set(_ time: UnixTime) {
        current.withLock { $0 = time }
    }
}
