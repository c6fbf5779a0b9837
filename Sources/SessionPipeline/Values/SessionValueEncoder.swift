#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Turns any `Encodable` value into a ``SessionValue`` directly, without a detour through text.
///
/// `Date` becomes ``SessionValue/date(_:)`` (rounded to the microsecond), `Data` becomes
/// ``SessionValue/bytes(_:)``, `URL` becomes its absolute string, integers become
/// ``SessionValue/int(_:)`` and floating-point numbers ``SessionValue/double(_:)``. An unsigned
/// integer above `Int64.max` cannot be represented and is refused with
/// ``SessionError/Code/invalidValue``.
///
/// ```swift
/// struct Cart: Codable { var items: [String]; var total: Double }
/// let value = try SessionValueEncoder().encode(Cart(items: ["tea"], total: 4.5))
/// // ["items": ["tea"], "total": 4.5]
/// ```
public struct SessionValueEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as a session value.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidValue`` when the value
    ///   cannot be represented (an unsigned integer above `Int64.max`, or a type that encodes
    ///   nothing).
    public func encode<T: Encodable>(_ value: T) throws -> SessionValue {
        if let direct = Self.directly(value) { return direct }
        let node = EncodingNode()
        do {
            try node.encode(value, codingPath: [])
        } catch let error as SessionError {
            throw error
        } catch {
            throw SessionError(.invalidValue, "cannot encode \(T.self): \(error)", layer: "Codable")
        }
        guard let result = node.resolve() else {
            throw SessionError(.invalidValue, "\(T.self) encoded no value", layer: "Codable")
        }
        return result
    }
}

extension SessionValueEncoder {
    /// `value` as a session value without the `Encodable` machinery — no encoder, no container,
    /// no casts — when its type is one of the scalar types sessions mostly hold (or a session
    /// value already); `nil` for every other type.
    @inline(__always)
    static func directly<T>(_ value: T) -> SessionValue? {
        if T.self == Int.self { return .int(Int64(reinterpret(value, as: Int.self))) }
        if T.self == String.self { return .string(reinterpret(value, as: String.self)) }
        if T.self == Bool.self { return .bool(reinterpret(value, as: Bool.self)) }
        if T.self == Double.self { return .double(reinterpret(value, as: Double.self)) }
        if T.self == Int64.self { return .int(reinterpret(value, as: Int64.self)) }
        if T.self == SessionValue.self { return reinterpret(value, as: SessionValue.self) }
        return nil
    }
}

/// A copy of `value` as `U`, which must be the very type of `value` (checked by the callers with
/// `T.self == U.self`): how generic code hands a value on once it knows its concrete type, without
/// a dynamic cast.
@inline(__always)
func reinterpret<T, U>(_ value: T, as type: U.Type) -> U {
    precondition(T.self == U.self)
    return withUnsafePointer(to: value) { UnsafeRawPointer($0).load(as: U.self) }
}

/// One slot of the value tree under construction. Containers hold child nodes so that nested
/// containers requested later can still write into their parent.
private final class EncodingNode {
    enum Content {
        case unset
        case value(SessionValue)
        case keyed([String: EncodingNode])
        case unkeyed([EncodingNode])
    }

    var content: Content = .unset

    func resolve() -> SessionValue? {
        switch content {
        case .unset:
            return nil
        case .value(let value):
            return value
        case .keyed(let children):
            var entries = [String: SessionValue](minimumCapacity: children.count)
            for (key, child) in children {
                entries[key] = child.resolve() ?? .dictionary([:])
            }
            return .dictionary(SessionDictionary(entries))
        case .unkeyed(let children):
            return .array(children.map { $0.resolve() ?? .dictionary([:]) })
        }
    }

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        if let special = try Self.specialValue(value, codingPath: codingPath) {
            content = .value(special)
        } else {
            try value.encode(to: NodeEncoder(node: self, codingPath: codingPath))
        }
    }

    /// Types whose own `Codable` conformance would lose what the session model can say directly.
    static func specialValue<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> SessionValue? {
        switch value {
        case let value as SessionValue: return value
        case let value as SessionDictionary: return value.value
        case let value as SessionDate: return .date(value)
        case let value as Date: return .date(SessionDate(value))
        case let value as Data: return .bytes([UInt8](value))
        case let value as URL: return .string(value.absoluteString)
        default: return nil
        }
    }

    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ value: T, codingPath: [any CodingKey]) throws
        -> SessionValue
    {
        guard let int = Int64(exactly: value) else {
            throw SessionError(
                .invalidValue,
                "\(T.self) value at \(renderCodingPath(codingPath)) exceeds Int64.max",
                layer: "Codable"
            )
        }
        return .int(int)
    }
}

/// Renders a coding path as `cart.items[2].price`.
func renderCodingPath(_ codingPath: [any CodingKey]) -> String {
    var text = ""
    for key in codingPath {
        if let index = key.intValue, key.stringValue == String(index) {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text.isEmpty ? "top level" : text
}

/// The key `super`, under which `superEncoder()` nests a superclass's values.
struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }

    init() {}

    init?(stringValue: String) {
        guard stringValue == "super" else { return nil }
    }

    init?(intValue: Int) {
        nil
    }
}

/// The position of an element in an array, as a coding key.
struct IndexKey: CodingKey {
    var stringValue: String { String(index) }
    var intValue: Int? { index }
    let index: Int

    init(_ index: Int) {
        self.index = index
    }

    init?(stringValue: String) {
        guard let index = Int(stringValue) else { return nil }
        self.index = index
    }

    init?(intValue: Int) {
        self.index = intValue
    }
}

private struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.content {
        } else {
            node.content = .keyed([:])
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = node.content {
        } else {
            node.content = .unkeyed([])
        }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func child(for key: Key) -> EncodingNode {
        child(named: key.stringValue)
    }

    private func child(named name: String) -> EncodingNode {
        guard case .keyed(var children) = node.content else {
            preconditionFailure("keyed container over a non-keyed node")
        }
        if let existing = children[name] {
            return existing
        }
        let child = EncodingNode()
        node.content = .unset
        children[name] = child
        node.content = .keyed(children)
        return child
    }

    private func set(_ value: SessionValue, for key: Key) {
        child(for: key).content = .value(value)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, for: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), for: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), for: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), for: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.double(Double(value)), for: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), for: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
        set(try EncodingNode.unsigned(value, codingPath: codingPath + [key]), for: key)
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), for: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        set(try EncodingNode.unsigned(value, codingPath: codingPath + [key]), for: key)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try child(for: key).encode(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(for: key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(for: key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: child(named: "super"), codingPath: codingPath + [SuperKey()])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: child(for: key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int {
        guard case .unkeyed(let children) = node.content else { return 0 }
        return children.count
    }

    private func append() -> EncodingNode {
        guard case .unkeyed(var children) = node.content else {
            preconditionFailure("unkeyed container over a non-unkeyed node")
        }
        let child = EncodingNode()
        node.content = .unset
        children.append(child)
        node.content = .unkeyed(children)
        return child
    }

    private func append(_ value: SessionValue) {
        append().content = .value(value)
    }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt) throws { append(try EncodingNode.unsigned(value, codingPath: nextPath)) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { append(try EncodingNode.unsigned(value, codingPath: nextPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = nextPath
        try append().encode(value, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = nextPath
        return NodeEncoder(node: append(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        return NodeEncoder(node: append(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        return NodeEncoder(node: append(), codingPath: path)
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func set(_ value: SessionValue) {
        node.content = .value(value)
    }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(try EncodingNode.unsigned(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(try EncodingNode.unsigned(value, codingPath: codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.encode(value, codingPath: codingPath)
    }
}
