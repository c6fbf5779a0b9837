#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// One value stored in a session: the closed set of kinds every serializer can write.
///
/// Sessions are dictionaries of string keys to `SessionValue`s; any `Codable` type maps onto
/// these kinds through ``SessionValueEncoder`` and ``SessionValueDecoder``.
///
/// ```swift
/// let profile: SessionValue = [
///     "name": "Jane",
///     "roles": ["customer", "beta"],
///     "visits": 12,
///     "avatar": .bytes([0x89, 0x50, 0x4E, 0x47]),
/// ]
/// ```
///
/// Equality is exact: doubles compare by their bit pattern, so `-0.0` differs from `0.0` and a
/// NaN equals an identical NaN. That is the promise every store makes: what is read back equals,
/// in this sense, what was written.
public enum SessionValue: Sendable {
    /// An explicit null.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit signed integer.
    case int(Int64)
    /// A 64-bit IEEE 754 floating-point number.
    case double(Double)
    /// A Unicode string.
    case string(String)
    /// Raw bytes.
    case bytes([UInt8])
    /// A point in time, with microsecond precision.
    case date(SessionDate)
    /// An ordered list of values.
    case array([SessionValue])
    /// String keys to values, kept in key order.
    case dictionary(SessionDictionary)

    /// The kind of this value, without its contents.
    public var kind: Kind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .date: .date
        case .array: .array
        case .dictionary: .dictionary
        }
    }
}

extension SessionValue {
    /// The kinds of session value.
    public enum Kind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// ``SessionValue/null``.
        case null
        /// ``SessionValue/bool(_:)``.
        case bool
        /// ``SessionValue/int(_:)``.
        case int
        /// ``SessionValue/double(_:)``.
        case double
        /// ``SessionValue/string(_:)``.
        case string
        /// ``SessionValue/bytes(_:)``.
        case bytes
        /// ``SessionValue/date(_:)``.
        case date
        /// ``SessionValue/array(_:)``.
        case array
        /// ``SessionValue/dictionary(_:)``.
        case dictionary

        /// The kind's name, for example `dictionary`.
        public var description: String { rawValue }
    }

    /// A set of value kinds, for stating what a format or store can hold.
    public struct Kinds: OptionSet, Sendable, Hashable {
        /// The bits of the set, one per ``Kind`` in declaration order.
        public let rawValue: UInt16

        /// Creates a set from its bits.
        public init(rawValue: UInt16) {
            self.rawValue = rawValue
        }

        /// Creates the set holding one kind.
        public init(_ kind: Kind) {
            let index = Kind.allCases.firstIndex(of: kind)!
            self.init(rawValue: 1 << UInt16(index))
        }

        /// ``SessionValue/null``.
        public static let null = Kinds(Kind.null)
        /// ``SessionValue/bool(_:)``.
        public static let bool = Kinds(Kind.bool)
        /// ``SessionValue/int(_:)``.
        public static let int = Kinds(Kind.int)
        /// ``SessionValue/double(_:)``.
        public static let double = Kinds(Kind.double)
        /// ``SessionValue/string(_:)``.
        public static let string = Kinds(Kind.string)
        /// ``SessionValue/bytes(_:)``.
        public static let bytes = Kinds(Kind.bytes)
        /// ``SessionValue/date(_:)``.
        public static let date = Kinds(Kind.date)
        /// ``SessionValue/array(_:)``.
        public static let array = Kinds(Kind.array)
        /// ``SessionValue/dictionary(_:)``.
        public static let dictionary = Kinds(Kind.dictionary)
        /// Every kind.
        public static let all = Kinds(Kind.allCases.map { Kinds($0) })

        /// Whether the set holds `kind`.
        public func contains(_ kind: Kind) -> Bool {
            contains(Kinds(kind))
        }

        /// The kinds in the set, in declaration order.
        public var members: [Kind] {
            Kind.allCases.filter { contains($0) }
        }
    }
}

extension SessionValue: Hashable {
    /// Exact equality: doubles compare bit for bit, containers element by element.
    public static func == (lhs: SessionValue, rhs: SessionValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a == b
        case (.bytes(let a), .bytes(let b)): a == b
        case (.date(let a), .date(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.dictionary(let a), .dictionary(let b)): a == b
        default: false
        }
    }

    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        switch self {
        case .null: break
        case .bool(let value): hasher.combine(value)
        case .int(let value): hasher.combine(value)
        case .double(let value): hasher.combine(value.bitPattern)
        case .string(let value): hasher.combine(value)
        case .bytes(let value): hasher.combine(value)
        case .date(let value): hasher.combine(value)
        case .array(let value): hasher.combine(value)
        case .dictionary(let value): hasher.combine(value)
        }
    }
}

extension SessionValue {
    /// Creates a ``date(_:)`` value from a `Date`, rounded to the nearest microsecond.
    public init(_ date: Date) {
        self = .date(SessionDate(date))
    }

    /// Creates a ``bytes(_:)`` value from `Data`.
    public init(_ data: Data) {
        self = .bytes([UInt8](data))
    }

    /// Whether the value is ``null``.
    public var isNull: Bool {
        if case .null = self { true } else { false }
    }

    /// The boolean, if this is a ``bool(_:)``.
    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    /// The integer, if this is an ``int(_:)``.
    public var intValue: Int64? {
        if case .int(let value) = self { value } else { nil }
    }

    /// The number as a `Double`, if this is a ``double(_:)``, or an ``int(_:)`` that converts
    /// exactly.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(exactly: value)
        default: nil
        }
    }

    /// The string, if this is a ``string(_:)``.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The bytes, if this is a ``bytes(_:)``.
    public var bytesValue: [UInt8]? {
        if case .bytes(let value) = self { value } else { nil }
    }

    /// The date, if this is a ``date(_:)``.
    public var dateValue: SessionDate? {
        if case .date(let value) = self { value } else { nil }
    }

    /// The elements, if this is an ``array(_:)``.
    public var arrayValue: [SessionValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    /// The entries, if this is a ``dictionary(_:)``.
    public var dictionaryValue: SessionDictionary? {
        if case .dictionary(let value) = self { value } else { nil }
    }

    /// The kinds that occur anywhere in this value, containers included.
    public var kindsUsed: Kinds {
        var kinds = Kinds(kind)
        switch self {
        case .array(let elements):
            for element in elements { kinds.formUnion(element.kindsUsed) }
        case .dictionary(let entries):
            for entry in entries { kinds.formUnion(entry.value.kindsUsed) }
        default:
            break
        }
        return kinds
    }
}

extension SessionValue: ExpressibleByBooleanLiteral {
    /// Creates a ``bool(_:)`` value.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension SessionValue: ExpressibleByIntegerLiteral {
    /// Creates an ``int(_:)`` value.
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension SessionValue: ExpressibleByFloatLiteral {
    /// Creates a ``double(_:)`` value.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension SessionValue: ExpressibleByStringLiteral {
    /// Creates a ``string(_:)`` value.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension SessionValue: ExpressibleByArrayLiteral {
    /// Creates an ``array(_:)`` value.
    public init(arrayLiteral elements: SessionValue...) {
        self = .array(elements)
    }
}

extension SessionValue: ExpressibleByDictionaryLiteral {
    /// Creates a ``dictionary(_:)`` value. A repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, SessionValue)...) {
        var builder = SessionDictionary.Builder(capacity: elements.count, keepingLastOfRepeatedKeys: true)
        for (key, value) in elements {
            builder.append(key, value)
        }
        self = .dictionary(builder.dictionary()!)
    }
}

extension SessionValue: CustomStringConvertible {
    /// A compact, JSON-like rendering for debugging.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .bytes(let value): return "<\(value.count) bytes>"
        case .date(let value): return value.description
        case .array(let value): return "[" + value.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let value): return value.description
        }
    }
}

extension SessionValue: Codable {
    /// Encodes the value with any `Encoder`: bytes as `Data`, dates as `Date`, the rest as the
    /// matching primitive or container. ``SessionValueEncoder`` keeps it exactly as it is.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bytes(let value): try container.encode(Data(value))
        case .date(let value): try container.encode(value.date)
        case .array(let value): try container.encode(value)
        case .dictionary(let value): try container.encode(value.dictionary)
        }
    }

    /// Decodes the value from any `Decoder`, trying null, bool, integer, double, string, array and
    /// dictionary in turn. ``SessionValueDecoder`` returns it exactly as stored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([SessionValue].self) {
            self = .array(value)
        } else {
            self = .dictionary(SessionDictionary(try container.decode([String: SessionValue].self)))
        }
    }
}
