#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads any `Decodable` type back out of a ``SessionValue``, the reverse of
/// ``SessionValueEncoder``.
///
/// Numbers convert only where no information is lost: an ``SessionValue/int(_:)`` reads as any
/// integer type it fits and as a floating-point number it converts to exactly; a
/// ``SessionValue/double(_:)`` reads as `Double` or `Float` (within `Float`'s range), and as an
/// integer only when it holds a whole number. Anything else is a
/// ``SessionError/Code/typeMismatch`` that names the path and the expected type.
///
/// ```swift
/// let cart = try SessionValueDecoder().decode(Cart.self, from: value)
/// ```
public struct SessionValueDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a `T` from `value`.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/typeMismatch`` when the value does
    ///   not have the shape `T` expects. The message names the path inside the value
    ///   (`items[2].price`) and the expected type.
    public func decode<T: Decodable>(_ type: T.Type, from value: SessionValue) throws -> T {
        if let direct = Self.directly(T.self, from: value) { return direct }
        do {
            return try NodeDecoder(value: value, codingPath: []).decodeValue(T.self)
        } catch let error as SessionError {
            throw error
        } catch let error as DecodingError {
            throw SessionError(.typeMismatch, Self.explain(error, decoding: T.self), layer: "Codable")
        } catch {
            throw SessionError(.typeMismatch, "cannot decode \(T.self): \(error)", layer: "Codable")
        }
    }

    /// `value` as `T` without the `Decodable` machinery — no decoder, no container, no casts —
    /// when `T` is one of the scalar types sessions mostly hold and `value` is exactly that kind;
    /// `nil` otherwise, and the general path converts or explains the mismatch.
    @inline(__always)
    static func directly<T>(_ type: T.Type, from value: SessionValue) -> T? {
        switch value {
        case .int(let int):
            if T.self == Int.self, let exact = Int(exactly: int) { return reinterpret(exact, as: T.self) }
            if T.self == Int64.self { return reinterpret(int, as: T.self) }
        case .string(let string):
            if T.self == String.self { return reinterpret(string, as: T.self) }
        case .bool(let bool):
            if T.self == Bool.self { return reinterpret(bool, as: T.self) }
        case .double(let double):
            if T.self == Double.self { return reinterpret(double, as: T.self) }
        default:
            break
        }
        return nil
    }

    static func explain(_ error: DecodingError, decoding type: Any.Type) -> String {
        switch error {
        case .typeMismatch(let expected, let context):
            return "at \(renderCodingPath(context.codingPath)): expected \(expected), \(context.debugDescription)"
        case .valueNotFound(let expected, let context):
            return "at \(renderCodingPath(context.codingPath)): expected \(expected), found null"
        case .keyNotFound(let key, let context):
            return "at \(renderCodingPath(context.codingPath)): missing key '\(key.stringValue)' while decoding \(type)"
        case .dataCorrupted(let context):
            return "at \(renderCodingPath(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "cannot decode \(type): \(error)"
        }
    }
}

private func mismatch(_ expected: Any.Type, _ value: SessionValue, _ codingPath: [any CodingKey]) -> DecodingError {
    .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "found \(value.kind)"))
}

/// Conversions from a session value to the primitive types `Decoder` asks for.
private enum Primitive {
    static func bool(_ value: SessionValue, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(Bool.self, value, path) }
        return bool
    }

    static func string(_ value: SessionValue, _ path: [any CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch(String.self, value, path) }
        return string
    }

    static func double(_ value: SessionValue, _ path: [any CodingKey]) throws -> Double {
        switch value {
        case .double(let double): return double
        case .int(let int):
            if let double = Double(exactly: int) { return double }
            throw DecodingError.dataCorrupted(
                .init(codingPath: path, debugDescription: "integer \(int) has no exact Double")
            )
        default: throw mismatch(Double.self, value, path)
        }
    }

    static func float(_ value: SessionValue, _ path: [any CodingKey]) throws -> Float {
        let double = try double(value, path)
        let float = Float(double)
        if double.isFinite && !float.isFinite {
            throw DecodingError.dataCorrupted(
                .init(codingPath: path, debugDescription: "number \(double) does not fit Float")
            )
        }
        return float
    }

    static func integer<T: FixedWidthInteger>(_ value: SessionValue, _ path: [any CodingKey]) throws -> T {
        switch value {
        case .int(let int):
            if let exact = T(exactly: int) { return exact }
            throw DecodingError.dataCorrupted(
                .init(codingPath: path, debugDescription: "number \(int) does not fit \(T.self)")
            )
        case .double(let double):
            if let exact = T(exactly: double) { return exact }
            throw DecodingError.dataCorrupted(
                .init(codingPath: path, debugDescription: "number \(double) is not a whole \(T.self)")
            )
        default:
            throw mismatch(T.self, value, path)
        }
    }
}

private struct NodeDecoder: Decoder {
    let value: SessionValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is SessionValue.Type:
            return value as! T
        case is SessionDictionary.Type:
            guard case .dictionary(let entries) = value else {
                throw mismatch(SessionDictionary.self, value, codingPath)
            }
            return entries as! T
        case is SessionDate.Type:
            guard case .date(let date) = value else { throw mismatch(SessionDate.self, value, codingPath) }
            return date as! T
        case is Date.Type:
            guard case .date(let date) = value else { throw mismatch(Date.self, value, codingPath) }
            return date.date as! T
        case is Data.Type:
            guard case .bytes(let bytes) = value else { throw mismatch(Data.self, value, codingPath) }
            return Data(bytes) as! T
        case is URL.Type:
            guard case .string(let string) = value else { throw mismatch(URL.self, value, codingPath) }
            guard let url = URL(string: string) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "invalid URL"))
            }
            return url as! T
        default:
            return try T(from: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .dictionary(let entries) = value else {
            throw mismatch([String: SessionValue].self, value, codingPath)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(entries: entries, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw mismatch([SessionValue].self, value, codingPath)
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: SessionDictionary
    let codingPath: [any CodingKey]

    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    private func value(for key: Key) throws -> SessionValue {
        guard let value = entries[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'")
            )
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(for: key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try Primitive.bool(value(for: key), codingPath + [key])
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try Primitive.string(value(for: key), codingPath + [key])
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try Primitive.double(value(for: key), codingPath + [key])
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try Primitive.float(value(for: key), codingPath + [key])
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try Primitive.integer(value(for: key), codingPath + [key])
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try NodeDecoder(value: value(for: key), codingPath: codingPath + [key]).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(value: value(for: key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(value: value(for: key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        NodeDecoder(value: entries["super"] ?? .null, codingPath: codingPath + [SuperKey()])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(value: entries[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [SessionValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [SessionValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var path: [any CodingKey] { codingPath + [IndexKey(currentIndex)] }

    private mutating func next(_ type: Any.Type) throws -> SessionValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(codingPath: path, debugDescription: "the array has only \(elements.count) elements")
            )
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let path = self.path
        return try Primitive.bool(next(type), path)
    }
    mutating func decode(_ type: String.Type) throws -> String {
        let path = self.path
        return try Primitive.string(next(type), path)
    }
    mutating func decode(_ type: Double.Type) throws -> Double {
        let path = self.path
        return try Primitive.double(next(type), path)
    }
    mutating func decode(_ type: Float.Type) throws -> Float {
        let path = self.path
        return try Primitive.float(next(type), path)
    }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        let path = self.path
        return try Primitive.integer(next(T.self), path)
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let path = self.path
        return try NodeDecoder(value: next(type), codingPath: path).decodeValue(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let path = self.path
        return try NodeDecoder(value: next([String: SessionValue].self), codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = self.path
        return try NodeDecoder(value: next([SessionValue].self), codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let path = self.path
        return NodeDecoder(value: try next(SessionValue.self), codingPath: path)
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: SessionValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try Primitive.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Primitive.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Primitive.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Primitive.float(value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Primitive.integer(value, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try NodeDecoder(value: value, codingPath: codingPath).decodeValue(T.self)
    }
}
