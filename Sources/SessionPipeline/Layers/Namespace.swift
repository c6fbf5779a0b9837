/// A layer that files every key under a namespace, so several applications or tenants can share
/// one driver without seeing each other's records.
///
/// On the way down, `session:abc` becomes `shop:session:abc`; on the way up the namespace is
/// removed again, and ``RecordStore/keys()`` lists only this namespace's keys, as the caller gave
/// them. Values, expiry and versions pass through untouched.
///
/// Put it above encryption, so the renamed key is what the envelope is bound to. A renamed key
/// longer than ``SessionKey/maximumLength`` is refused with ``SessionError/Code/invalidKey``.
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .namespaced("shop")
///     .serialized(writing: JSONSerializer())
///     .driver(MemoryDriver())
/// ```
public struct Namespace<Value: Sendable>: SessionLayer {
    /// The same values below as above.
    public typealias Below = Value
    /// The same values below as above.
    public typealias Above = Value

    /// The namespace, used as the stored keys' prefix.
    public let prefix: SessionKey.Prefix

    /// Creates the layer.
    public init(_ prefix: SessionKey.Prefix) {
        self.prefix = prefix
    }

    /// `namespace:shop`.
    public var name: String { "namespace:\(prefix)" }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        Namespaced(base: base, prefix: prefix)
    }
}

/// A store whose keys live under a namespace in its base; built by ``Namespace``.
public struct Namespaced<Base: RecordStore>: StoreLayer {
    /// The keys of this namespace, as the caller gave them.
    public typealias Keys = AsyncCompactMapSequence<Base.Keys, SessionKey>

    /// The store that holds the renamed keys.
    public let base: Base
    /// The namespace.
    public let prefix: SessionKey.Prefix

    /// Creates the layer over `base`.
    public init(base: Base, prefix: SessionKey.Prefix) {
        self.base = base
        self.prefix = prefix
    }

    /// The base's capabilities, compare-and-swap included, with room for the namespace taken off
    /// the longest key.
    public var capabilities: StoreCapabilities {
        var capabilities = base.capabilities
        capabilities.maximumKeyLength -= prefix.rawValue.utf8.count + 1
        return capabilities
    }

    /// The key as stored below.
    public func storedKey(_ key: SessionKey) throws -> SessionKey {
        try SessionKey(prefix: prefix, id: key.rawValue)
    }

    /// Reads `key` from the namespace.
    public func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        try await base.get(storedKey(key))
    }

    /// Writes `key` into the namespace.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        try await base.set(storedKey(key), to: record)
    }

    /// Deletes `key` from the namespace.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        try await base.delete(storedKey(key))
    }

    /// Touches `key` in the namespace.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await base.touch(storedKey(key), expires: expires)
    }

    /// Compare-and-swap on `key` in the namespace.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(storedKey(key), expecting: expected, with: record)
    }

    /// Deletes expired records in the base (other namespaces' included: expiry is a property of a
    /// record, not of a namespace).
    public func deleteExpired() async throws -> Int {
        try await base.deleteExpired()
    }

    /// The keys in this namespace, without the namespace.
    public func keys() -> Keys {
        let prefix = self.prefix
        return base.keys().compactMap { stored in
            guard stored.prefix == prefix else { return nil }
            return try? SessionKey(stored.id)
        }
    }
}

extension Pipeline {
    /// Adds a ``Namespace`` layer.
    public func namespaced(_ prefix: SessionKey.Prefix) -> Pipeline<Top, Bottom> {
        layer(Namespace<Bottom>(prefix))
    }
}
