/// A layer that moves records from an old store to a new one while the application runs: from
/// files to a database, from one format or key to another, with no downtime.
///
/// The store below this layer is the *new* one; the *old* one is given to the layer.
/// - **Reads** go to the new store; on a miss, to the old one, and a record found there is copied
///   forward (with its expiry) into the new store — with compare-and-swap when the new store has it,
///   so a concurrent write to the new store is never overwritten — and returned from there.
/// - **Writes** go to the new store only.
/// - **Deletes** go to both, so a deleted session cannot come back from the old store.
/// - **Delete-expired** runs on both; **traversal** lists the new store's keys, then the old store's
///   that the new one does not have.
///
/// Once every live record has been read (or copied with `sessionctl migrate`), remove the layer and
/// the old store.
///
/// ```swift
/// let old = try SessionStore.pipeline().serialized(.json).driver(FileDriver(root: "/var/lib/app/sessions"))
/// let store = try SessionStore.pipeline()
///     .migrating(from: old.base)
///     .serialized(.binary)
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions-v2"))
/// ```
public struct Migration<Value: Sendable>: SessionLayer {
    /// The same values below as above.
    public typealias Below = Value
    /// The same values below as above.
    public typealias Above = Value

    /// The store records are moved from.
    public let old: AnyRecordStore<Value>

    /// Creates the layer, moving records from `old`.
    public init(from old: some RecordStore<Value>) {
        self.old = AnyRecordStore(old)
    }

    /// `migrate:from=OldStore` (the old store's type; the layer cannot be built from a
    /// configuration string).
    public var name: String { "migrate:from=\(ConfigurationText.escape(String(describing: type(of: old.base))))" }

    /// Builds the layer over the new store, `base`.
    public func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        Migrating(base: base, old: old)
    }
}

/// A store that moves records from an old store into its base on read; built by ``Migration``.
public struct Migrating<Base: RecordStore>: StoreLayer {
    /// The new store's keys, then the old store's that the new one does not hold.
    public typealias Keys = MergedKeys<Base.Keys>

    /// The new store.
    public let base: Base
    /// The old store.
    public let old: AnyRecordStore<Base.Value>

    /// Creates the layer.
    public init(base: Base, old: AnyRecordStore<Base.Value>) {
        self.base = base
        self.old = old
    }

    /// The new store's capabilities; traversal lists stored keys if either store does.
    public var capabilities: StoreCapabilities {
        var capabilities = base.capabilities
        if old.capabilities.traversal != capabilities.traversal {
            capabilities.traversal = old.capabilities.traversal == .unsupported ? .unsupported : .storedKeys
        }
        capabilities.maximumKeyLength = min(capabilities.maximumKeyLength, old.capabilities.maximumKeyLength)
        capabilities.valueKinds = capabilities.valueKinds.intersection(old.capabilities.valueKinds)
        return capabilities
    }

    /// The new store's record, or the old store's, copied forward.
    public func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        if let record = try await base.get(key) {
            return record
        }
        guard let found = try await old.get(key) else { return nil }
        let moved = Record(found.value, expires: found.expires)
        if base.capabilities.compareAndSwap {
            // Another writer may have created the record in the new store meanwhile: it wins.
            guard try await base.compareAndSwap(key, expecting: nil, with: moved) != nil else {
                return try await base.get(key)
            }
        } else {
            try await base.set(key, to: moved)
        }
        return try await base.get(key)
    }

    /// Writes to the new store.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        try await base.set(key, to: record)
    }

    /// Compare-and-swap in the new store (a record still only in the old one is moved first).
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        if expected == nil, try await get(key) != nil {
            return nil
        }
        return try await base.compareAndSwap(key, expecting: expected, with: record)
    }

    /// Deletes from both stores.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        let inNew = try await base.delete(key)
        let inOld = try await old.delete(key)
        return inNew || inOld
    }

    /// Touches the record, moving it forward first if only the old store has it.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        if try await base.touch(key, expires: expires) {
            return true
        }
        guard try await get(key) != nil else { return false }
        return try await base.touch(key, expires: expires)
    }

    /// Deletes expired records from both stores.
    public func deleteExpired() async throws -> Int {
        try await base.deleteExpired() + old.deleteExpired()
    }

    /// The new store's keys, then the old store's that the new one does not hold.
    public func keys() -> MergedKeys<Base.Keys> {
        MergedKeys(first: base.keys(), second: old.keys())
    }
}

/// The keys of a first sequence, then those of a second that the first did not produce.
public struct MergedKeys<First: AsyncSequence<SessionKey, any Error> & Sendable>: AsyncSequence, Sendable {
    let first: First
    let second: AnyKeySequence

    /// Walks the first sequence, then the second.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var first: First.AsyncIterator
        var second: AnyKeySequence.AsyncIterator
        var seen: Set<SessionKey> = []
        var firstDone = false

        /// The next key not produced before, or `nil` at the end.
        public mutating func next() async throws -> SessionKey? {
            if !firstDone {
                if let key = try await first.next() {
                    seen.insert(key)
                    return key
                }
                firstDone = true
            }
            while let key = try await second.next() {
                if !seen.contains(key) { return key }
            }
            return nil
        }
    }

    /// Starts the walk.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(first: first.makeAsyncIterator(), second: second.makeAsyncIterator())
    }
}

extension Pipeline {
    /// Adds a ``Migration`` layer that moves records from `old` into the store below.
    public func migrating(from old: some RecordStore<Bottom>) -> Pipeline<Top, Bottom> {
        layer(Migration<Bottom>(from: old))
    }
}
