/// A layer that files every record under a keyed hash of its identifier, so that a listing of the
/// file store or a dump of the database reveals no live session id.
///
/// On the way down, `session:4Zr8…` becomes `session:` followed by the 64-hex-digit BLAKE2b-256
/// (libsodium `crypto_generichash`) of the identifier, keyed with the *id key*; the prefix stays,
/// so the kinds of records remain visible. Values, expiry and versions pass through untouched.
///
/// The id key is its own ``SecretKey``, separate from the encryption key ring and never rotated
/// with it: rotating it would orphan every stored session. ``RecordStore/keys()`` still works for
/// maintenance (purging, re-keying, statistics) but yields the stored, hashed keys
/// (``StoreCapabilities/Traversal/storedKeys``), from which no identifier can be recovered.
///
/// Put it above encryption, so that envelopes are bound to the hashed key the driver sees:
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .serialized(.binary)
///     .hashingIDs(with: SecretKey(environment: "SESSION_ID_KEY"))
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
public struct HashedIDs<Value: Sendable>: SessionLayer {
    /// The same values below as above.
    public typealias Below = Value
    /// The same values below as above.
    public typealias Above = Value

    /// The key of the hash.
    public let key: SecretKey

    /// Creates the layer.
    public init(key: SecretKey) {
        self.key = key
    }

    /// `hash-ids:env=SESSION_ID_KEY`: where the key comes from, never the key.
    public var name: String { "hash-ids:\(key.source)" }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        HashedKeys(base: base, key: key)
    }
}

/// A store whose keys are hashed in its base; built by ``HashedIDs``.
public struct HashedKeys<Base: RecordStore>: StoreLayer {
    /// The stored (hashed) keys of the base.
    public typealias Keys = Base.Keys

    /// The store that holds the hashed keys.
    public let base: Base
    /// The key of the hash.
    public let key: SecretKey

    /// Creates the layer over `base`.
    public init(base: Base, key: SecretKey) {
        self.base = base
        self.key = key
    }

    /// The base's capabilities, traversal reporting stored keys.
    public var capabilities: StoreCapabilities {
        var capabilities = base.capabilities
        if capabilities.traversal == .originalKeys {
            capabilities.traversal = .storedKeys
        }
        return capabilities
    }

    /// The key as stored below: the same prefix, the identifier's keyed hash in hex.
    public func storedKey(_ original: SessionKey) throws -> SessionKey {
        let digest = key.withUnsafeBytes { key in
            original.id.utf8.withUnsafeBytes { Sodium.keyedHash($0, key: key, outputLength: 32) }
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return try SessionKey(prefix: original.prefix, id: String(decoding: hex, as: UTF8.self))
    }

    /// Reads the hashed key.
    public func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        try await base.get(storedKey(key))
    }

    /// Writes the hashed key.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        try await base.set(storedKey(key), to: record)
    }

    /// Deletes the hashed key.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        try await base.delete(storedKey(key))
    }

    /// Touches the hashed key.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await base.touch(storedKey(key), expires: expires)
    }

    /// Compare-and-swap on the hashed key.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(storedKey(key), expecting: expected, with: record)
    }

    /// The stored keys, hashed.
    public func keys() -> Base.Keys {
        base.keys()
    }
}

extension Pipeline {
    /// Adds a ``HashedIDs`` layer keyed with `key`.
    public func hashingIDs(with key: SecretKey) -> Pipeline<Top, Bottom> {
        layer(HashedIDs<Bottom>(key: key))
    }
}
