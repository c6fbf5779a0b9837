/// The contents of one session: string keys to ``SessionValue``s, with typed `Codable` access.
///
/// A value type with copy-on-write storage, so copies are cheap and two copies never affect each
/// other. Plain session values go through the subscript; any `Codable` type goes through the
/// throwing ``set(_:for:)`` and ``get(_:_:)``, which map it onto session values directly.
///
/// ```swift
/// var session = SessionDictionary()
/// session["user"] = "alice"
/// try session.set(Cart(items: ["tea"], total: 4.5), for: "cart")
/// let cart = try session.get(Cart.self, "cart")   // Cart?
/// ```
public struct SessionDictionary: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The entries.
    public var values: [String: SessionValue]

    /// Creates an empty session.
    public init() {
        self.values = [:]
    }

    /// Creates a session holding `values`.
    public init(_ values: [String: SessionValue]) {
        self.values = values
    }

    /// Creates a session from a dictionary literal. A repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, SessionValue)...) {
        self.values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    /// Encodes the entries as a keyed container.
    public func encode(to encoder: any Encoder) throws {
        try values.encode(to: encoder)
    }

    /// Decodes the entries from a keyed container.
    public init(from decoder: any Decoder) throws {
        self.values = try [String: SessionValue](from: decoder)
    }

    /// Creates a session from a ``SessionValue/dictionary(_:)`` value; `nil` for any other kind.
    public init?(_ value: SessionValue) {
        guard case .dictionary(let values) = value else { return nil }
        self.values = values
    }

    /// The whole session as one ``SessionValue/dictionary(_:)`` value.
    public var value: SessionValue { .dictionary(values) }

    /// The value for `key`, or `nil`. Assigning `nil` removes the key.
    public subscript(key: String) -> SessionValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// Reads the value under `key` as a `T`.
    ///
    /// - Returns: `nil` when the key is absent.
    /// - Throws: ``SessionError`` with code ``SessionError/Code/typeMismatch`` when the stored value
    ///   does not decode as `T`; the message names the key, the path inside the value and the
    ///   expected type.
    public func get<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        guard let value = values[key] else { return nil }
        do {
            return try SessionValueDecoder().decode(T.self, from: value)
        } catch let error as SessionError {
            throw SessionError(
                error.code,
                "session key '\(key)' as \(T.self): \(error.message)",
                layer: error.layer,
                underlying: error.underlying
            )
        }
    }

    /// Stores `value` under `key`, converted to session values.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidValue`` when the value cannot
    ///   be represented (for example an unsigned integer above `Int64.max`).
    public mutating func set<T: Encodable>(_ value: T, for key: String) throws {
        do {
            values[key] = try SessionValueEncoder().encode(value)
        } catch let error as SessionError {
            throw SessionError(
                error.code,
                "session key '\(key)': \(error.message)",
                layer: error.layer,
                underlying: error.underlying
            )
        }
    }

    /// Removes `key` and returns the value it held.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> SessionValue? {
        values.removeValue(forKey: key)
    }

    /// Removes every entry.
    public mutating func removeAll() {
        values.removeAll()
    }

    /// The keys, in no particular order.
    public var keys: Dictionary<String, SessionValue>.Keys { values.keys }

    /// The number of entries.
    public var count: Int { values.count }

    /// Whether the session holds no entries.
    public var isEmpty: Bool { values.isEmpty }

    /// The entries, rendered like ``SessionValue/description``.
    public var description: String { value.description }
}
