/// String keys to ``SessionValue``s: the contents of a session, and every dictionary inside one.
///
/// A value type with copy-on-write storage, so copies are cheap and two copies never affect each
/// other. Entries are kept in the order of their keys' UTF-8 bytes, so iteration is deterministic,
/// serializers write canonical output without sorting, and reading canonical input builds the
/// dictionary without hashing a single key. Lookups are a binary search.
///
/// Plain session values go through the subscript; any `Codable` type goes through the throwing
/// ``set(_:for:)`` and ``get(_:_:)``, which map it onto session values directly.
///
/// ```swift
/// var session = SessionDictionary()
/// session["user"] = "alice"
/// try session.set(Cart(items: ["tea"], total: 4.5), for: "cart")
/// let cart = try session.get(Cart.self, "cart")   // Cart?
/// for (key, value) in session { print(key, value) }   // in key order
/// ```
///
/// Keys are compared by their UTF-8 bytes, like ``SessionKey``: the precomposed and the combining
/// spelling of "é" are two different keys.
public struct SessionDictionary: Sendable, Hashable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One entry, as iteration yields it.
    public typealias Element = (key: String, value: SessionValue)

    /// One stored entry. (A struct rather than a tuple: arrays of structs are destroyed by compiled
    /// code, arrays of tuples by the runtime's generic tuple witness, which is several times slower.)
    ///
    /// Public (with an inlinable initializer) so that a serializer in another module can build
    /// entries in place; only this library's own modules can hand an array of them to a dictionary.
    public struct Entry: Sendable {
        /// The key.
        public var key: String
        /// The value.
        public var value: SessionValue

        /// Creates an entry.
        @inlinable
        public init(key: String, value: SessionValue) {
            self.key = key
            self.value = value
        }
    }

    /// The entries, sorted by the UTF-8 bytes of their keys, without duplicates.
    package private(set) var storage: [Entry]

    /// The entries in key order.
    public var entries: [Element] {
        storage.map { ($0.key, $0.value) }
    }

    /// Creates an empty dictionary.
    public init() {
        self.storage = []
    }

    /// Creates a dictionary holding the entries of `dictionary`.
    public init(_ dictionary: [String: SessionValue]) {
        self.storage = dictionary.sorted { UTF8Text.compare($0.key, $1.key) < 0 }.map {
            Entry(key: $0.key, value: $0.value)
        }
    }

    /// Creates a dictionary from a literal. A repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, SessionValue)...) {
        var builder = Builder(capacity: elements.count, keepingLastOfRepeatedKeys: true)
        for (key, value) in elements {
            builder.append(key, value)
        }
        self = builder.dictionary()!
    }

    /// Creates a dictionary from a ``SessionValue/dictionary(_:)`` value; `nil` for any other kind.
    public init?(_ value: SessionValue) {
        guard case .dictionary(let dictionary) = value else { return nil }
        self = dictionary
    }

    /// Wraps entries the caller has checked are in strictly increasing ``UTF8Text/compare(_:_:)``
    /// order of their keys (so no key repeats).
    package init(sortedUniqueEntries entries: [Entry]) {
        self.storage = entries
    }

    /// The whole dictionary as one ``SessionValue/dictionary(_:)`` value.
    public var value: SessionValue { .dictionary(self) }

    /// The entries as a Swift dictionary.
    public var dictionary: [String: SessionValue] {
        Dictionary(storage.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// The position of `key` in ``entries``, or where it would be inserted.
    private func search(_ key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = storage.count
        while low < high {
            let middle = (low + high) / 2
            let order = UTF8Text.compare(storage[middle].key, key)
            if order == 0 { return (middle, true) }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return (low, false)
    }

    /// The value for `key`, or `nil`. Assigning `nil` removes the key.
    public subscript(key: String) -> SessionValue? {
        get {
            let (index, found) = search(key)
            return found ? storage[index].value : nil
        }
        set {
            let (index, found) = search(key)
            switch (found, newValue) {
            case (true, .some(let value)): storage[index].value = value
            case (true, .none): storage.remove(at: index)
            case (false, .some(let value)): storage.insert(Entry(key: key, value: value), at: index)
            case (false, .none): break
            }
        }
    }

    /// Reads the value under `key` as a `T`.
    ///
    /// - Returns: `nil` when the key is absent.
    /// - Throws: ``SessionError`` with code ``SessionError/Code/typeMismatch`` when the stored value
    ///   does not decode as `T`; the message names the key, the path inside the value and the
    ///   expected type.
    public func get<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        guard let value = self[key] else { return nil }
        return try Self.decode(value, as: T.self, key: key)
    }

    /// `value`, stored under `key`, decoded as `T`; a mismatch names the key.
    static func decode<T: Decodable>(_ value: SessionValue, as type: T.Type, key: String) throws -> T {
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
            self[key] = try SessionValueEncoder().encode(value)
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
        let (index, found) = search(key)
        return found ? storage.remove(at: index).value : nil
    }

    /// Removes every entry.
    public mutating func removeAll() {
        storage.removeAll()
    }

    /// The keys, in order.
    public var keys: [String] { storage.map(\.key) }

    /// The number of entries.
    public var count: Int { storage.count }

    /// Whether the dictionary holds no entries.
    public var isEmpty: Bool { storage.isEmpty }

    /// Entries are equal, key by key (compared by bytes) and value by value.
    public static func == (lhs: SessionDictionary, rhs: SessionDictionary) -> Bool {
        if lhs.storage.sharesStorage(with: rhs.storage) { return true }
        return lhs.storage.count == rhs.storage.count
            && zip(lhs.storage, rhs.storage).allSatisfy {
                $0.value == $1.value && UTF8Text.compare($0.key, $1.key) == 0
            }
    }

    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.count)
        for entry in storage {
            for byte in entry.key.utf8 {
                hasher.combine(byte)
            }
            hasher.combine(entry.value)
        }
    }

    /// The entries, rendered like ``SessionValue/description``.
    public var description: String {
        "{" + storage.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }
}

extension SessionDictionary: Sequence {
    /// Iterates the entries in key order.
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Entry]>

        /// The next entry, or `nil` at the end.
        public mutating func next() -> Element? {
            base.next().map { ($0.key, $0.value) }
        }
    }

    /// Iterates the entries in key order.
    public func makeIterator() -> Iterator {
        Iterator(base: storage.makeIterator())
    }

    /// The number of entries.
    public var underestimatedCount: Int { storage.count }
}

extension SessionDictionary: Codable {
    /// Encodes the entries as a keyed container.
    public func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }

    /// Decodes the entries from a keyed container.
    public init(from decoder: any Decoder) throws {
        self.init(try [String: SessionValue](from: decoder))
    }
}

extension SessionDictionary {
    /// Builds a dictionary from entries in any order, cheaply when they arrive sorted (as every
    /// serializer in this library writes them).
    package struct Builder {
        private var entries: [Entry] = []
        private var sorted = true
        private var duplicate = false
        private let keepingLast: Bool

        /// Prepares for about `capacity` entries.
        ///
        /// - Parameter keepingLastOfRepeatedKeys: Whether a repeated key replaces the earlier value
        ///   (as in a dictionary literal) instead of making ``dictionary()`` return `nil` (as a
        ///   reader of outside input must).
        package init(capacity: Int = 0, keepingLastOfRepeatedKeys: Bool = false) {
            entries.reserveCapacity(capacity)
            keepingLast = keepingLastOfRepeatedKeys
        }

        /// Adds an entry.
        package mutating func append(_ key: String, _ value: SessionValue) {
            if sorted, let last = entries.last {
                let order = UTF8Text.compare(last.key, key)
                if order == 0 {
                    if keepingLast {
                        entries[entries.count - 1].value = value
                    } else {
                        duplicate = true
                    }
                    return
                }
                if order > 0 { sorted = false }
            }
            entries.append(Entry(key: key, value: value))
        }

        /// The dictionary, or `nil` when a key was repeated (and repeats are not allowed).
        package func dictionary() -> SessionDictionary? {
            if duplicate { return nil }
            if sorted { return SessionDictionary(sortedUniqueEntries: entries) }
            // Equal keys end up in their original order, so the last one written comes last.
            let ordered = entries.enumerated().sorted {
                let order = UTF8Text.compare($0.element.key, $1.element.key)
                return order < 0 || (order == 0 && $0.offset < $1.offset)
            }
            var unique: [Entry] = []
            unique.reserveCapacity(ordered.count)
            for (_, entry) in ordered {
                if let last = unique.last, UTF8Text.compare(last.key, entry.key) == 0 {
                    guard keepingLast else { return nil }
                    unique[unique.count - 1] = entry
                    continue
                }
                unique.append(entry)
            }
            return SessionDictionary(sortedUniqueEntries: unique)
        }
    }
}
