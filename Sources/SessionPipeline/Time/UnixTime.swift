/// A wall-clock instant in whole seconds since 1970-01-01T00:00:00Z: the unit of record expiry.
///
/// ```swift
/// let expires = clock.now() + .seconds(1800)
/// ```
public struct UnixTime: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Seconds since 1970 (negative before it).
    public var seconds: Int64

    /// Creates an instant from seconds since 1970.
    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// Creates an instant from an integer literal of seconds since 1970.
    public init(integerLiteral seconds: Int64) {
        self.seconds = seconds
    }

    /// Orders instants from earlier to later.
    public static func < (lhs: UnixTime, rhs: UnixTime) -> Bool {
        lhs.seconds < rhs.seconds
    }

    /// The instant `duration` later, with any fraction of a second rounded up and the result
    /// clamped to the range of `Int64`.
    public static func + (lhs: UnixTime, rhs: Duration) -> UnixTime {
        let (seconds, attoseconds) = rhs.components
        let whole = attoseconds > 0 ? seconds &+ 1 : seconds
        let (sum, overflow) = lhs.seconds.addingReportingOverflow(whole)
        if overflow {
            return UnixTime(seconds: whole > 0 ? .max : .min)
        }
        return UnixTime(seconds: sum)
    }

    /// The instant `duration` earlier.
    public static func - (lhs: UnixTime, rhs: Duration) -> UnixTime {
        lhs + (.zero - rhs)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: UnixTime, rhs: UnixTime) -> Duration {
        .seconds(lhs.seconds) - .seconds(rhs.seconds)
    }

    /// The seconds, as a decimal number.
    public var description: String { String(seconds) }
}

extension Optional where Wrapped == UnixTime {
    /// Whether a record with this expiry has expired at `now`: it has when `now` has reached the
    /// expiry. No expiry never expires.
    public func hasExpired(at now: UnixTime) -> Bool {
        guard let expiry = self else { return false }
        return now >= expiry
    }
}
