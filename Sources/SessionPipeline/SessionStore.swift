/// The store an application uses: session values in, session values out, over any pipeline.
///
/// Compose it once at start-up and share it; it is a `Sendable` value.
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .serialized(writing: JSONSerializer())
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
///
/// let id = SessionID.random()
/// var session = SessionDictionary()
/// session["user"] = "alice"
/// try await store.save(session, for: id, expires: store.clock.now() + .seconds(1800))
/// let loaded = try await store.load(id)   // the same dictionary, or nil once expired
/// ```
///
/// The record-level operations (``get(_:)``, ``set(_:_:expires:)``, ``delete(_:)``,
/// ``deleteExpired()``) are Catalyst's store interface and take any ``SessionKey``; the session-level
/// ones (``load(_:)``, ``save(_:for:expires:)``, ``destroy(_:)``) work on `session:ID`.
public struct SessionStore: Sendable {
    /// The top of the pipeline.
    public let base: AnyRecordStore<SessionValue>
    /// The pipeline's layers from the top, ending with the driver, as configuration components.
    public let layerNames: [String]

    /// The pipeline as a configuration string, `cache:…;serializer:binary;…;driver:file,root=…`:
    /// what an operator reads to see what is running. Keys appear only as where they come from.
    public var configuration: String { layerNames.joined(separator: ";") }

    /// Uses `base` as the store.
    public init(_ base: any RecordStore<SessionValue>) {
        self.init(base, layerNames: [ConfigurationText.component(of: base)])
    }

    init(_ base: any RecordStore<SessionValue>, layerNames: [String]) {
        self.base = AnyRecordStore(base)
        self.layerNames = layerNames
    }

    /// Starts a pipeline of session values; add layers, then finish with
    /// ``Pipeline/driver(_:)``.
    public static func pipeline() -> Pipeline<SessionValue, SessionValue> {
        Pipeline()
    }

    /// The clock the pipeline uses.
    public var clock: any SessionClock { base.clock }

    /// What the pipeline offers and promises.
    public var capabilities: StoreCapabilities { base.capabilities }

    // MARK: Records

    /// The value under `key`, or `nil` when there is none or it has expired.
    public func get(_ key: SessionKey) async throws -> SessionValue? {
        try await base.get(key)?.value
    }

    /// The whole record under `key` (value, expiry, version, flags), or `nil`.
    public func record(_ key: SessionKey) async throws -> Record<SessionValue>? {
        try await base.get(key)
    }

    /// Stores `value` under `key` until `expires` (`nil`: no expiry); returns the record's version
    /// when the pipeline versions records.
    @discardableResult
    public func set(_ key: SessionKey, _ value: SessionValue, expires: UnixTime? = nil) async throws -> RecordVersion? {
        try await base.set(key, to: Record(value, expires: expires))
    }

    /// Removes the value under `key`; returns whether there was one.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        try await base.delete(key)
    }

    /// Moves the expiry of the value under `key`; returns whether a live value was there.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await base.touch(key, expires: expires)
    }

    /// Removes every expired value; returns how many were removed.
    public func deleteExpired() async throws -> Int {
        try await base.deleteExpired()
    }

    /// Every key in the store (see ``StoreCapabilities/traversal``).
    public func keys() -> AnyKeySequence {
        base.keys()
    }

    // MARK: Sessions

    /// The session `id`, or `nil` when there is none or it has expired.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/typeMismatch`` when the value under
    ///   `session:ID` is not a dictionary.
    public func load(_ id: SessionID) async throws -> SessionDictionary? {
        guard let value = try await get(.session(id)) else { return nil }
        guard let session = SessionDictionary(value) else {
            throw SessionError(
                .typeMismatch,
                "the value under a session key is a \(value.kind), not a dictionary",
                layer: "SessionStore"
            )
        }
        return session
    }

    /// Stores `session` as session `id` until `expires` (`nil`: no expiry).
    public func save(_ session: SessionDictionary, for id: SessionID, expires: UnixTime?) async throws {
        _ = try await set(.session(id), session.value, expires: expires)
    }

    /// Removes session `id` together with its `expires:` and `flash:` records.
    public func destroy(_ id: SessionID) async throws {
        try await delete(.session(id))
        try await delete(.expires(id))
        try await delete(.flash(id))
    }
}
