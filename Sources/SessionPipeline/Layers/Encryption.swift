/// The layer that encrypts: libsodium's XChaCha20-Poly1305-IETF with a fresh random 192-bit nonce
/// for every write, under the primary key of a ``KeyRing``.
///
/// **On write** the bytes from above are sealed into a version-1 envelope (`docs/FORMAT.md`):
///
/// | bytes | field |
/// |---|---|
/// | 0 | format version, `0x01` |
/// | 1–4 | key id, UInt32 big-endian |
/// | 5–12 | expiry, Int64 big-endian Unix seconds, `0` = none |
/// | 13–36 | nonce, 24 bytes |
/// | 37… | ciphertext followed by the 16-byte tag |
///
/// The associated data is bytes 0–36 followed by the *context*: the store key exactly as this
/// layer receives it (`session:ID`, or `shop:session:ID` below a namespace). So an envelope copied
/// to another key, or kept past its expiry, does not open.
///
/// **On read** the envelope is opened with the key its id names. An envelope sealed under an older
/// key opens and its record carries ``RecordFlags/needsReseal``; with
/// ``Configuration/resealOnRead`` the layer writes it back sealed under the primary key ("lazy
/// rotation"). An envelope whose own expiry has passed reads as missing, like any expired record;
/// the record's expiry is taken from the envelope, where it is authenticated, not from the
/// driver. Failures are typed: ``SessionError/Code/unknownKeyID``,
/// ``SessionError/Code/authenticationFailed``, ``SessionError/Code/malformed``.
///
/// **Order.** Put it below the serializer and any compression (encrypting compressed data, never
/// compressing ciphertext), and below layers that rename keys, so the context is the stored key:
///
/// ```swift
/// let keys = try KeyRing(environment: "SESSION_KEYS")
/// let store = try SessionStore.pipeline()
///     .namespaced("shop")
///     .serialized(.binary)
///     .compressed(.zstd())
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
///
/// Changing only a record's expiry (``RecordStore/touch(_:expires:)``) re-seals it, since the expiry
/// is part of the authenticated header.
///
/// - Warning: Encryption hides contents, not their size: a ciphertext is 53 bytes longer than its
///   plaintext. It does not stop replay: a stolen envelope opens until it expires or its key is
///   removed from the ring. ``Configuration/acceptUnsealed`` is for migrating a server-side store
///   that held plain records; while it is on, whoever can write to the store can plant unsealed
///   records. See the article "Threat model".
public struct Encryption: SessionLayer {
    /// Bytes below.
    public typealias Below = [UInt8]
    /// Bytes above.
    public typealias Above = [UInt8]

    /// Settings of the encryption layer.
    public struct Configuration: Sendable {
        /// Whether reading a record sealed under an older key writes it back sealed under the
        /// primary key. Default `false`.
        public var resealOnRead: Bool
        /// Whether records that are not envelopes are read as they are (flagged
        /// ``RecordFlags/needsRewrite``) instead of refused: only while migrating a store that held
        /// unencrypted records, never for cookies. Default `false`.
        public var acceptUnsealed: Bool

        /// Creates a configuration.
        public init(resealOnRead: Bool = false, acceptUnsealed: Bool = false) {
            self.resealOnRead = resealOnRead
            self.acceptUnsealed = acceptUnsealed
        }
    }

    /// The envelope's version byte, and its tag in the frame table: `0x01`.
    public static let version: UInt8 = 0x01
    /// The length of the authenticated header: version, key id, expiry, nonce.
    public static let headerLength = 37
    /// What sealing adds to a plaintext: the header and the 16-byte tag.
    public static let overhead = 53

    /// The keys.
    public let keys: KeyRing
    /// The layer's settings.
    public let configuration: Configuration

    /// Creates the layer.
    public init(keys: KeyRing, configuration: Configuration = Configuration()) {
        self.keys = keys
        self.configuration = configuration
    }

    /// `encrypt:env=SESSION_KEYS` (with `,reseal=yes` and `,migrate=yes` when set): where the keys
    /// come from, never the keys.
    public var name: String {
        "encrypt:\(keys.source)"
            + (configuration.resealOnRead ? ",reseal=yes" : "") + (configuration.acceptUnsealed ? ",migrate=yes" : "")
    }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<[UInt8]>) throws -> any RecordStore<[UInt8]> {
        Encrypted(base: base, encryption: self)
    }

    // MARK: Sealing and opening

    /// Seals `plaintext` under the primary key into a version-1 envelope bound to `context`.
    public func seal(_ plaintext: [UInt8], context: String, expires: UnixTime?) -> [UInt8] {
        [UInt8](uninitializedCount: Self.overhead + plaintext.count) { buffer, initialized in
            plaintext.withUnsafeBytes {
                seal($0, context: context, expires: expires, into: UnsafeMutableRawBufferPointer(buffer))
            }
            initialized = buffer.count
        }
    }

    /// Seals `plaintext` as ``seal(_:context:expires:)`` does, into `envelope`, which holds exactly
    /// ``overhead`` more bytes than the plaintext: for callers that encode the envelope further
    /// and need no array of it.
    package func seal(
        _ plaintext: UnsafeRawBufferPointer,
        context: String,
        expires: UnixTime?,
        into envelope: UnsafeMutableRawBufferPointer
    ) {
        precondition(envelope.count == Self.overhead + plaintext.count)
        let key = keys.primary
        envelope[0] = Self.version
        envelope.storeBytes(of: key.id.bigEndian, toByteOffset: 1, as: UInt32.self)
        envelope.storeBytes(of: (expires?.seconds ?? 0).bigEndian, toByteOffset: 5, as: Int64.self)
        Sodium.fillRandom(UnsafeMutableRawBufferPointer(rebasing: envelope[13..<37]))
        let header = UnsafeRawBufferPointer(rebasing: envelope[0..<Self.headerLength])
        Self.withAssociatedData(header: header, context: context) { associatedData in
            key.key.withUnsafeBytes { keyBytes in
                Sodium.aeadSeal(
                    plaintext,
                    additionalData: associatedData,
                    nonce: UnsafeRawBufferPointer(rebasing: envelope[13..<37]),
                    key: keyBytes,
                    into: UnsafeMutableRawBufferPointer(rebasing: envelope[Self.headerLength...])
                )
            }
        }
    }

    /// What opening an envelope found.
    public struct Opened: Sendable {
        /// The plaintext.
        public var plaintext: [UInt8]
        /// The id of the key that sealed it.
        public var keyID: UInt32
        /// The expiry sealed into it.
        public var expires: UnixTime?
        /// Whether it was sealed under a key other than the primary one.
        public var needsReseal: Bool
    }

    /// Opens a version-1 envelope bound to `context`, at time `now`.
    ///
    /// - Throws: ``SessionError/Code/malformed`` for bytes that are not a version-1 envelope,
    ///   ``SessionError/Code/unknownKeyID`` when the ring lacks the key it names,
    ///   ``SessionError/Code/authenticationFailed`` when it was tampered with, sealed under another
    ///   key with the same id, or bound to another context, ``SessionError/Code/expired`` when its
    ///   expiry has passed. The expiry is checked only after the envelope authenticates.
    public func open(_ envelope: [UInt8], context: String, now: UnixTime) throws -> Opened {
        try envelope.withUnsafeBytes { try open($0, context: context, now: now) }
    }

    /// Opens an envelope in memory as ``open(_:context:now:)`` does: for callers that decoded it
    /// into a buffer of their own.
    package func open(_ envelope: UnsafeRawBufferPointer, context: String, now: UnixTime) throws -> Opened {
        let header = try Self.fields(of: envelope)
        guard let key = keys.key(id: header.keyID) else {
            throw SessionError(
                .unknownKeyID,
                "the envelope was sealed under key id \(header.keyID), which the key ring does not hold",
                layer: "Encryption"
            )
        }
        let plaintext = try [UInt8](uninitializedCount: envelope.count - Self.overhead) { output, initialized in
            let opened = Self.withAssociatedData(
                header: UnsafeRawBufferPointer(rebasing: envelope[0..<Self.headerLength]),
                context: context
            ) { associatedData in
                key.withUnsafeBytes { keyBytes in
                    Sodium.aeadOpen(
                        UnsafeRawBufferPointer(rebasing: envelope[Self.headerLength...]),
                        additionalData: associatedData,
                        nonce: UnsafeRawBufferPointer(rebasing: envelope[13..<37]),
                        key: keyBytes,
                        into: UnsafeMutableRawBufferPointer(output)
                    )
                }
            }
            guard opened else {
                initialized = 0
                throw SessionError(
                    .authenticationFailed,
                    "the envelope does not authenticate (tampered, another key, or another context)",
                    layer: "Encryption"
                )
            }
            initialized = envelope.count - Self.overhead
        }
        if header.expires.hasExpired(at: now) {
            throw SessionError(.expired, "the envelope expired at \(header.expires!)", layer: "Encryption")
        }
        return Opened(
            plaintext: plaintext,
            keyID: header.keyID,
            expires: header.expires,
            needsReseal: header.keyID != keys.primary.id
        )
    }

    /// An envelope's header, read without any key.
    public struct Header: Sendable, Hashable {
        /// The format version, `1`.
        public var version: UInt8
        /// The id of the key that sealed it.
        public var keyID: UInt32
        /// The expiry sealed into it (`nil` when the field is 0).
        public var expires: UnixTime?
        /// The 24-byte nonce.
        public var nonce: [UInt8]
    }

    /// Reads an envelope's header without opening it (for inspection tools).
    ///
    /// - Throws: ``SessionError/Code/malformed`` when the bytes are shorter than an envelope or do
    ///   not start with version `0x01`.
    public static func header(of envelope: [UInt8]) throws -> Header {
        let fields = try envelope.withUnsafeBytes { try Self.fields(of: $0) }
        return Header(version: version, keyID: fields.keyID, expires: fields.expires, nonce: Array(envelope[13..<37]))
    }

    /// The key id and expiry of an envelope whose length and version are right: what opening it
    /// needs of the header (the nonce is read in place).
    private static func fields(of envelope: UnsafeRawBufferPointer) throws -> (keyID: UInt32, expires: UnixTime?) {
        guard envelope.count >= overhead else {
            throw SessionError(
                .malformed,
                "\(envelope.count) bytes are shorter than an envelope (\(overhead) bytes at least)",
                layer: "Encryption"
            )
        }
        guard envelope[0] == version else {
            throw SessionError(
                .malformed,
                "not a version-1 envelope (first byte 0x\(String(envelope[0], radix: 16)))",
                layer: "Encryption"
            )
        }
        let seconds = Int64(bigEndian: envelope.loadUnaligned(fromByteOffset: 5, as: Int64.self))
        return (
            UInt32(bigEndian: envelope.loadUnaligned(fromByteOffset: 1, as: UInt32.self)),
            seconds == 0 ? nil : UnixTime(seconds: seconds)
        )
    }

    /// Calls `body` with the associated data: the 37-byte header followed by the context's UTF-8.
    private static func withAssociatedData<R>(
        header: UnsafeRawBufferPointer,
        context: String,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        var context = context
        return try context.withUTF8 { contextBytes in
            let length = header.count + contextBytes.count
            return try withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { buffer in
                buffer.copyMemory(from: header)
                UnsafeMutableRawBufferPointer(rebasing: buffer[header.count...]).copyMemory(
                    from: UnsafeRawBufferPointer(contextBytes)
                )
                return try body(UnsafeRawBufferPointer(buffer))
            }
        }
    }
}

/// A store whose records are sealed in its base; built by ``Encryption``.
public struct Encrypted<Base: RecordStore<[UInt8]>>: StoreLayer {
    /// The base's keys.
    public typealias Keys = Base.Keys

    /// The store of envelopes.
    public let base: Base
    /// The keys and settings.
    public let encryption: Encryption

    /// Creates the layer over `base`.
    public init(base: Base, encryption: Encryption) {
        self.base = base
        self.encryption = encryption
    }

    /// The base's capabilities, compare-and-swap included when the base has it.
    public var capabilities: StoreCapabilities { base.capabilities }

    /// Reads and opens the record under `key`; an envelope past its own expiry reads as `nil`.
    public func get(_ key: SessionKey) async throws -> Record<[UInt8]>? {
        guard let stored = try await base.get(key), let record = try open(stored, key) else { return nil }
        if encryption.configuration.resealOnRead && !record.flags.isDisjoint(with: [.needsReseal, .needsRewrite]) {
            try await reseal(key, record, over: stored)
        }
        return record
    }

    /// Opens a stored envelope (or, in migration mode, passes an unsealed record through).
    private func open(_ stored: Record<[UInt8]>, _ key: SessionKey) throws -> Record<[UInt8]>? {
        if stored.value.first != Encryption.version && encryption.configuration.acceptUnsealed {
            var record = stored
            record.flags.insert(.needsRewrite)
            return record
        }
        let opened: Encryption.Opened
        do {
            opened = try encryption.open(stored.value, context: key.rawValue, now: clock.now())
        } catch let error as SessionError where error.code == .expired {
            return nil
        }
        var record = Record(opened.plaintext, expires: opened.expires, version: stored.version, flags: stored.flags)
        if opened.needsReseal {
            record.flags.insert(.needsReseal)
        }
        return record
    }

    /// Writes `record` back sealed under the primary key, unless another write came first.
    private func reseal(_ key: SessionKey, _ record: Record<[UInt8]>, over stored: Record<[UInt8]>) async throws {
        let sealed = Record(
            encryption.seal(record.value, context: key.rawValue, expires: record.expires),
            expires: record.expires
        )
        if base.capabilities.compareAndSwap {
            _ = try await base.compareAndSwap(key, expecting: stored.version, with: sealed)
        } else {
            try await base.set(key, to: sealed)
        }
    }

    /// Seals `record` and stores it under `key`.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<[UInt8]>) async throws -> RecordVersion? {
        try await base.set(key, to: sealed(key, record))
    }

    /// Seals `record` and stores it if the base's version still matches.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<[UInt8]>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(key, expecting: expected, with: sealed(key, record))
    }

    /// Re-seals the record under `key` with the new expiry (the expiry is authenticated, so it
    /// cannot change without re-sealing).
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        guard let stored = try await base.get(key), var record = try open(stored, key) else { return false }
        record.expires = expires
        if base.capabilities.compareAndSwap {
            return try await base.compareAndSwap(key, expecting: stored.version, with: sealed(key, record)) != nil
        }
        try await base.set(key, to: sealed(key, record))
        return true
    }

    private func sealed(_ key: SessionKey, _ record: Record<[UInt8]>) -> Record<[UInt8]> {
        Record(encryption.seal(record.value, context: key.rawValue, expires: record.expires), expires: record.expires)
    }
}

extension Pipeline where Bottom == [UInt8] {
    /// Adds an ``Encryption`` layer sealing under the primary key of `keys`.
    public func encrypted(
        with keys: KeyRing,
        configuration: Encryption.Configuration = Encryption.Configuration()
    ) -> Pipeline<Top, [UInt8]> {
        layer(Encryption(keys: keys, configuration: configuration))
    }
}
