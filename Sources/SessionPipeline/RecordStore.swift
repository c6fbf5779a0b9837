/// A store of records under ``SessionKey``s: the protocol every driver and every layer conforms to.
///
/// A *driver* (``MemoryDriver``, ``FileDriver``, a database) is a `RecordStore` at the bottom of a
/// pipeline, usually of bytes (`Value == [UInt8]`). A *layer* is a `RecordStore` that wraps another
/// one, its ``StoreLayer/base``: a serializer turns a store of bytes into a store of
/// ``SessionValue``s, compression and encryption turn bytes into other bytes, a namespace renames
/// keys. The application talks to the top of the pipeline through ``SessionStore``.
///
/// The contract, which ``SessionPipelineTesting``'s conformance suite checks for any store:
/// - ``get(_:)`` after ``set(_:to:)`` returns an equal value and the same expiry.
/// - Missing or expired is `nil`, never an error. A record is expired when the store's
///   ``clock`` has reached its expiry.
/// - Faults throw ``SessionError``; nothing is swallowed.
/// - Time comes only from ``clock``.
///
/// Operations that do not involve a record's value have defaults for layers in ``StoreLayer``;
/// ``compareAndSwap(_:expecting:with:)`` has a default that refuses, for stores that do not
/// announce ``StoreCapabilities/compareAndSwap``.
public protocol RecordStore<Value>: Sendable {
    /// What a record holds: `[UInt8]` below a serializer, ``SessionValue`` above it.
    associatedtype Value: Sendable
    /// The sequence ``keys()`` returns.
    associatedtype Keys: AsyncSequence<SessionKey, any Error> & Sendable

    /// The clock every expiry decision in this store, and every layer above it, uses.
    var clock: any SessionClock { get }

    /// What this store offers and promises.
    var capabilities: StoreCapabilities { get }

    /// The record under `key`, or `nil` when there is none or it has expired.
    func get(_ key: SessionKey) async throws -> Record<Value>?

    /// Stores `record` under `key`, replacing any record there.
    ///
    /// - Returns: the version the store gave the record, when it versions records (see
    ///   ``StoreCapabilities/compareAndSwap``); `nil` otherwise.
    @discardableResult
    func set(_ key: SessionKey, to record: Record<Value>) async throws -> RecordVersion?

    /// Removes the record under `key`.
    ///
    /// - Returns: whether a record was there (expired or not).
    @discardableResult
    func delete(_ key: SessionKey) async throws -> Bool

    /// Changes the expiry of the record under `key` without rewriting its value.
    ///
    /// - Returns: whether a live record was there; `false` (and no change) when it was missing or
    ///   expired.
    @discardableResult
    func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool

    /// Removes every record that has expired.
    ///
    /// - Returns: how many records were removed.
    func deleteExpired() async throws -> Int

    /// Every key in the store, in no particular order: the keys as they were given to
    /// ``set(_:to:)`` or, below a layer that renames keys, as stored (see
    /// ``StoreCapabilities/traversal``). Records removed or added while the sequence runs may or may
    /// not appear.
    func keys() -> Keys

    /// Stores `record` only if the record under `key` still has version `expected` (`nil`: only if
    /// there is no live record).
    ///
    /// - Returns: the record's new version when it was stored, `nil` when another write came first.
    /// - Throws: ``SessionError`` with code ``SessionError/Code/unsupported`` when the store does not
    ///   announce ``StoreCapabilities/compareAndSwap``.
    func compareAndSwap(_ key: SessionKey, expecting expected: RecordVersion?, with record: Record<Value>)
        async throws -> RecordVersion?
}

extension RecordStore {
    /// Refuses: the store does not support compare-and-swap.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Value>
    ) async throws -> RecordVersion? {
        throw SessionError(
            .unsupported,
            "\(Self.self) does not support compare-and-swap",
            layer: String(describing: Self.self)
        )
    }
}

/// A record: a value, its expiry, and what the store knows about it.
///
/// Layers pass ``expires`` through unchanged (an expiry lost in a layer would keep sessions alive
/// for ever), map ``value``, carry ``version`` for compare-and-swap, and may add ``flags`` on the
/// way up.
public struct Record<Value: Sendable>: Sendable {
    /// The stored value.
    public var value: Value
    /// When the record expires (the record is gone once the clock reaches it); `nil` for never.
    public var expires: UnixTime?
    /// The store's version of the record, for ``RecordStore/compareAndSwap(_:expecting:with:)``;
    /// set by stores that support it when they return a record, ignored on writes.
    public var version: RecordVersion?
    /// Facts the layers below learned while reading the record.
    public var flags: RecordFlags

    /// Creates a record.
    public init(_ value: Value, expires: UnixTime? = nil, version: RecordVersion? = nil, flags: RecordFlags = []) {
        self.value = value
        self.expires = expires
        self.version = version
        self.flags = flags
    }

    /// The same record with its value transformed; expiry, version and flags carried over.
    public func map<T: Sendable>(_ transform: (Value) throws -> T) rethrows -> Record<T> {
        Record<T>(try transform(value), expires: expires, version: version, flags: flags)
    }

    /// Whether the record has expired at `now`.
    public func hasExpired(at now: UnixTime) -> Bool {
        expires.hasExpired(at: now)
    }
}

extension Record: Equatable where Value: Equatable {}
extension Record: Hashable where Value: Hashable {}

/// An opaque version a store assigns to each write of a record, for compare-and-swap.
public struct RecordVersion: Hashable, Sendable, CustomStringConvertible {
    /// The version's bits; meaningful only to the store that issued it.
    public let rawValue: UInt64

    /// Wraps a store's version number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The version in hexadecimal.
    public var description: String { "v" + String(rawValue, radix: 16) }
}

/// Facts about a record that a read carries up the pipeline.
///
/// Bits 0–15 are the library's; bits 16–31 are free for users' own layers.
public struct RecordFlags: OptionSet, Hashable, Sendable {
    /// The flags' bits.
    public let rawValue: UInt32

    /// Creates flags from bits.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The record was sealed or signed under a key that is no longer the primary one: writing it
    /// back re-seals it under the primary key.
    public static let needsReseal = RecordFlags(rawValue: 1 << 0)
    /// The record was read through a pass-through path (for example an unsealed record in an
    /// explicit migration mode) and should be rewritten in the current format.
    public static let needsRewrite = RecordFlags(rawValue: 1 << 1)
}

/// What a store offers and promises; the conformance suite checks exactly these promises.
public struct StoreCapabilities: Hashable, Sendable {
    /// How ``RecordStore/keys()`` reports keys.
    public enum Traversal: Hashable, Sendable {
        /// The keys exactly as given to ``RecordStore/set(_:to:)``.
        case originalKeys
        /// The keys as stored below a layer that transforms them irreversibly (a hashed id): one per
        /// record, but not the ones the caller used.
        case storedKeys
        /// The store cannot list its keys (a client cookie, for one).
        case unsupported
    }

    /// Whether ``RecordStore/compareAndSwap(_:expecting:with:)`` works and reads return versions.
    public var compareAndSwap: Bool
    /// How ``RecordStore/keys()`` reports keys.
    public var traversal: Traversal
    /// The kinds of ``SessionValue`` a value-level store can hold; others are refused at write time
    /// with ``SessionError/Code/invalidValue``. Stores of bytes hold any bytes and leave this at
    /// ``SessionValue/Kinds/all``.
    public var valueKinds: SessionValue.Kinds
    /// The longest key, in bytes of UTF-8, the store accepts: ``SessionKey/maximumLength`` unless a
    /// layer lengthens keys (a namespace adds its prefix).
    public var maximumKeyLength: Int

    /// Creates a description of a store's capabilities.
    public init(
        compareAndSwap: Bool = false,
        traversal: Traversal = .originalKeys,
        valueKinds: SessionValue.Kinds = .all,
        maximumKeyLength: Int = SessionKey.maximumLength
    ) {
        self.compareAndSwap = compareAndSwap
        self.traversal = traversal
        self.valueKinds = valueKinds
        self.maximumKeyLength = maximumKeyLength
    }
}

/// A store that adds behaviour to another store, its ``base``: the shape of every layer.
///
/// Conforming gives defaults that pass key-only operations (``RecordStore/delete(_:)``,
/// ``RecordStore/touch(_:expires:)``, ``RecordStore/deleteExpired()``, ``RecordStore/keys()``) and
/// the ``RecordStore/clock`` straight to the base. A layer that renames keys must implement all of
/// them itself. ``RecordStore/capabilities`` defaults to the base's without compare-and-swap: a layer
/// announces compare-and-swap only when it implements it.
///
/// See the article "Writing a custom layer".
public protocol StoreLayer<Value>: RecordStore {
    /// The store this layer wraps.
    associatedtype Base: RecordStore
    /// The store this layer wraps.
    var base: Base { get }
}

extension StoreLayer {
    /// The base's clock: one clock for the whole pipeline.
    public var clock: any SessionClock { base.clock }

    /// The base's capabilities, without compare-and-swap.
    public var capabilities: StoreCapabilities {
        var capabilities = base.capabilities
        capabilities.compareAndSwap = false
        return capabilities
    }

    /// Deletes the same key in the base.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        try await base.delete(key)
    }

    /// Touches the same key in the base.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await base.touch(key, expires: expires)
    }

    /// Deletes expired records in the base.
    public func deleteExpired() async throws -> Int {
        try await base.deleteExpired()
    }
}

extension StoreLayer where Keys == Base.Keys {
    /// The base's keys.
    public func keys() -> Base.Keys {
        base.keys()
    }
}

/// The keys a store had when ``RecordStore/keys()`` was called, as an `AsyncSequence`.
///
/// For drivers that can list their keys cheaply in one go (``MemoryDriver``).
public struct KeySnapshot: AsyncSequence, Sendable {
    /// The keys, in the order they will be produced.
    public let keys: [SessionKey]

    /// Creates a sequence over `keys`.
    public init(_ keys: [SessionKey]) {
        self.keys = keys
    }

    /// Iterates over the snapshot.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[SessionKey]>

        /// The next key, or `nil` at the end.
        public mutating func next() async throws -> SessionKey? {
            base.next()
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: keys.makeIterator())
    }
}

/// Any record store of `Value`s behind one concrete type: what a composed ``Pipeline`` returns, and
/// a way to keep differently built stores in one variable.
///
/// ```swift
/// let store: AnyRecordStore<[UInt8]> = AnyRecordStore(try FileDriver(root: "/tmp/sessions"))
/// ```
public struct AnyRecordStore<Value: Sendable>: RecordStore {
    /// The wrapped store.
    public let base: any RecordStore<Value>

    /// Wraps `base`; a store that is already an `AnyRecordStore` is not wrapped twice.
    public init(_ base: any RecordStore<Value>) {
        if let erased = base as? AnyRecordStore<Value> {
            self = erased
        } else {
            self.base = base
        }
    }

    /// The wrapped store's clock.
    public var clock: any SessionClock { base.clock }
    /// The wrapped store's capabilities.
    public var capabilities: StoreCapabilities { base.capabilities }

    /// The wrapped store's record under `key`.
    public func get(_ key: SessionKey) async throws -> Record<Value>? {
        try await base.get(key)
    }

    /// Stores `record` in the wrapped store.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Value>) async throws -> RecordVersion? {
        try await base.set(key, to: record)
    }

    /// Deletes `key` in the wrapped store.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        try await base.delete(key)
    }

    /// Touches `key` in the wrapped store.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await base.touch(key, expires: expires)
    }

    /// Deletes expired records in the wrapped store.
    public func deleteExpired() async throws -> Int {
        try await base.deleteExpired()
    }

    /// The wrapped store's keys.
    public func keys() -> AnyKeySequence {
        AnyKeySequence(base.keys())
    }

    /// Compare-and-swap in the wrapped store.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Value>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(key, expecting: expected, with: record)
    }
}

/// Any sequence of keys behind one concrete type.
public struct AnyKeySequence: AsyncSequence, Sendable {
    private let base: any AsyncSequence<SessionKey, any Error> & Sendable

    /// Wraps `base`.
    public init(_ base: any AsyncSequence<SessionKey, any Error> & Sendable) {
        self.base = base
    }

    /// Iterates over the wrapped sequence.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<SessionKey, any Error>

        /// The next key, or `nil` at the end.
        public mutating func next() async throws -> SessionKey? {
            try await base.next()
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator())
    }
}

/// Keys read a page at a time, for drivers over a database: a traversal of a million sessions
/// holds one page of keys in memory, never the values.
///
/// `fetch(after, limit)` returns up to `limit` keys that sort after `after` (`nil`: from the
/// start), in the database's order; a page shorter than `limit` ends the sequence.
public struct PagedKeys: AsyncSequence, Sendable {
    /// Reads one page.
    public typealias Fetch = @Sendable (_ after: String?, _ limit: Int) async throws -> [String]

    /// Keys per page.
    public let pageSize: Int
    private let fetch: Fetch
    private let layer: String

    /// Creates the sequence; `layer` names the driver in errors.
    ///
    /// - Precondition: `pageSize` is at least 1.
    public init(pageSize: Int = 1000, layer: String, fetch: @escaping Fetch) {
        precondition(pageSize >= 1, "a page holds at least one key")
        self.pageSize = pageSize
        self.fetch = fetch
        self.layer = layer
    }

    /// Iterates, one fetch per page.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let keys: PagedKeys
        var buffer: [String] = []
        var index = 0
        var last: String?
        var finished = false

        /// The next key, or `nil` at the end.
        ///
        /// - Throws: the fetch's error, or ``SessionError/Code/corrupt`` for a stored key that is
        ///   not a valid ``SessionKey``.
        public mutating func next() async throws -> SessionKey? {
            if index == buffer.count {
                guard !finished else { return nil }
                buffer = try await keys.fetch(last, keys.pageSize)
                index = 0
                finished = buffer.count < keys.pageSize
                guard let tail = buffer.last else { return nil }
                last = tail
            }
            defer { index += 1 }
            do {
                return try SessionKey(buffer[index])
            } catch {
                throw SessionError(.corrupt, "the store holds an invalid key", layer: keys.layer)
            }
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(keys: self)
    }
}
