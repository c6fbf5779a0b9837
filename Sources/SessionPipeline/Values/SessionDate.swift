#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A point in time with microsecond precision, as sessions store it.
///
/// Every serializer can write a microsecond count exactly, so a date read back from any format
/// equals the date that was stored. A `Date` is rounded to the nearest microsecond on entry.
///
/// ```swift
/// session["last_seen"] = .date(SessionDate(Date()))
/// let seen: Date? = session["last_seen"]?.dateValue?.date
/// ```
public struct SessionDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z (negative before it).
    public let microsecondsSince1970: Int64

    /// Creates a date from a microsecond count since 1970.
    public init(microsecondsSince1970: Int64) {
        self.microsecondsSince1970 = microsecondsSince1970
    }

    /// Creates a date from whole seconds since 1970.
    ///
    /// - Precondition: the result fits the microsecond range (about ±292,000 years).
    public init(secondsSince1970 seconds: Int64) {
        let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        precondition(!overflow, "SessionDate out of range")
        self.microsecondsSince1970 = micros
    }

    /// Creates a date from a `Date`, rounded to the nearest microsecond.
    ///
    /// Dates outside the representable range (about ±292,000 years around 1970) are clamped to
    /// its ends; non-finite dates become the start of 1970.
    public init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if micros.isNaN {
            self.microsecondsSince1970 = 0
        } else if micros >= 9.223_372_036_854_775e18 {
            self.microsecondsSince1970 = .max
        } else if micros <= -9.223_372_036_854_775e18 {
            self.microsecondsSince1970 = .min
        } else {
            self.microsecondsSince1970 = Int64(micros)
        }
    }

    /// The same instant as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: Double(microsecondsSince1970) / 1_000_000)
    }

    /// Whole seconds since 1970, rounded toward negative infinity.
    public var secondsSince1970: Int64 {
        let (q, r) = microsecondsSince1970.quotientAndRemainder(dividingBy: 1_000_000)
        return r < 0 ? q - 1 : q
    }

    /// The microseconds past ``secondsSince1970``, always in `0..<1_000_000`.
    public var microsecondOfSecond: Int64 {
        let r = microsecondsSince1970 % 1_000_000
        return r < 0 ? r + 1_000_000 : r
    }

    /// Orders dates from earlier to later.
    public static func < (lhs: SessionDate, rhs: SessionDate) -> Bool {
        lhs.microsecondsSince1970 < rhs.microsecondsSince1970
    }

    /// The date in ISO 8601 form, UTC, with six fractional digits (`2024-06-10T06:33:20.000000Z`).
    public var description: String {
        let seconds = secondsSince1970
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civilDate(daysSince1970: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(microsecondOfSecond, 6))Z"
    }

    /// Converts a day count since 1970-01-01 into a proleptic Gregorian date (Howard Hinnant's
    /// `civil_from_days`).
    package static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
