/// The layer that signs: data stays readable but cannot be changed, moved or kept past its expiry
/// without detection. HMAC-SHA-512-256 (libsodium's `crypto_auth`) under a subkey derived from the
/// ring's key.
///
/// **On write** the bytes from above become a signed frame (tag `0x02`, `docs/FORMAT.md`):
///
/// | bytes | field |
/// |---|---|
/// | 0 | tag, `0x02` |
/// | 1–4 | key id, UInt32 big-endian |
/// | 5–12 | expiry, Int64 big-endian Unix seconds, `0` = none |
/// | 13…n−33 | the payload, as is |
/// | last 32 | HMAC-SHA-512-256 |
///
/// The MAC covers bytes 0–12, the payload's length as a UInt64 big-endian, the payload, and the
/// context (the store key as this layer receives it), so neither the payload nor the context can be
/// shifted across their boundary. The MAC key is not the ring key itself but its subkey 1 under the
/// `crypto_kdf` context `SPsign01`, so no key serves two algorithms.
///
/// **On read** the MAC is checked in constant time; older keys verify and flag
/// ``RecordFlags/needsReseal``; an expired frame reads as missing. Failures are typed like the
/// encryption layer's.
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .serialized(.json)
///     .signed(with: keys)
///     .driver(MemoryDriver())
/// ```
///
/// - Warning: Signing does not hide anything: anyone who can read the store or the cookie reads the
///   payload. Use ``Encryption`` for secrets.
public struct Signing: SessionLayer {
    /// Bytes below.
    public typealias Below = [UInt8]
    /// Bytes above.
    public typealias Above = [UInt8]

    /// The frame's tag: `0x02`.
    public static let tag: UInt8 = 0x02
    /// The header: tag, key id, expiry.
    public static let headerLength = 13
    /// What signing adds: the header and the 32-byte MAC.
    public static let overhead = 45
    /// The `crypto_kdf` context of the MAC subkeys.
    public static let keyDerivationContext: StaticString = "SPsign01"

    /// The keys the MAC subkeys are derived from.
    public let keys: KeyRing
    private let subkeys: [(id: UInt32, key: SecretKey)]

    /// Creates the layer, deriving one MAC subkey per ring key.
    public init(keys: KeyRing) {
        self.keys = keys
        self.subkeys = keys.entries.map { ($0.id, $0.key.derive(subkey: 1, context: Self.keyDerivationContext)) }
    }

    /// `sign:env=SESSION_KEYS`: where the keys come from, never the keys.
    public var name: String { "sign:\(keys.source)" }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<[UInt8]>) throws -> any RecordStore<[UInt8]> {
        Signed(base: base, signing: self)
    }

    /// Signs `payload` under the primary key's subkey, bound to `context`.
    public func sign(_ payload: [UInt8], context: String, expires: UnixTime?) -> [UInt8] {
        let (id, key) = subkeys[0]
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + Self.overhead)
        frame.append(Self.tag)
        withUnsafeBytes(of: id.bigEndian) { frame.append(contentsOf: $0) }
        withUnsafeBytes(of: (expires?.seconds ?? 0).bigEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: payload)
        let mac = Self.mac(header: frame[0..<Self.headerLength], payload: payload[...], context: context, key: key)
        frame.append(contentsOf: mac)
        return frame
    }

    /// What verifying a frame found.
    public struct Verified: Sendable {
        /// The payload.
        public var payload: [UInt8]
        /// The id of the key whose subkey signed it.
        public var keyID: UInt32
        /// The expiry signed into it.
        public var expires: UnixTime?
        /// Whether it was signed under a key other than the primary one.
        public var needsReseal: Bool
    }

    /// Verifies a signed frame bound to `context`, at time `now`.
    ///
    /// - Throws: ``SessionError/Code/malformed``, ``SessionError/Code/unknownKeyID``,
    ///   ``SessionError/Code/authenticationFailed``, ``SessionError/Code/expired`` (checked after the
    ///   MAC).
    public func verify(_ frame: [UInt8], context: String, now: UnixTime) throws -> Verified {
        guard frame.count >= Self.overhead, frame[0] == Self.tag else {
            throw SessionError(.malformed, "not a signed frame", layer: "Signing")
        }
        let (keyID, seconds) = frame.withUnsafeBytes { raw in
            (
                UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 1, as: UInt32.self)),
                Int64(bigEndian: raw.loadUnaligned(fromByteOffset: 5, as: Int64.self))
            )
        }
        guard let key = subkeys.first(where: { $0.id == keyID })?.key else {
            throw SessionError(
                .unknownKeyID,
                "the frame was signed under key id \(keyID), which the key ring does not hold",
                layer: "Signing"
            )
        }
        let payload = frame[Self.headerLength..<(frame.count - 32)]
        let expected = Self.mac(header: frame[0..<Self.headerLength], payload: payload, context: context, key: key)
        guard Sodium.constantTimeEqual(expected, frame[(frame.count - 32)...]) else {
            throw SessionError(
                .authenticationFailed,
                "the signature does not verify (tampered, another key, or another context)",
                layer: "Signing"
            )
        }
        let expires = seconds == 0 ? nil : UnixTime(seconds: seconds)
        if expires.hasExpired(at: now) {
            throw SessionError(.expired, "the signed frame expired at \(expires!)", layer: "Signing")
        }
        return Verified(payload: Array(payload), keyID: keyID, expires: expires, needsReseal: keyID != keys.primary.id)
    }

    private static func mac(
        header: ArraySlice<UInt8>,
        payload: ArraySlice<UInt8>,
        context: String,
        key: SecretKey
    ) -> [UInt8] {
        var context = context
        let length = UInt64(payload.count).bigEndian
        return [UInt8](uninitializedCount: 32) { output, initialized in
            header.withUnsafeBytes { header in
                payload.withUnsafeBytes { payload in
                    withUnsafeBytes(of: length) { length in
                        context.withUTF8 { context in
                            key.withUnsafeBytes { key in
                                Sodium.authenticate(
                                    [header, length, payload, UnsafeRawBufferPointer(context)],
                                    key: key,
                                    into: UnsafeMutableRawBufferPointer(output)
                                )
                            }
                        }
                    }
                }
            }
            initialized = 32
        }
    }
}

/// A store whose records are signed in its base; built by ``Signing``.
public struct Signed<Base: RecordStore<[UInt8]>>: StoreLayer {
    /// The base's keys.
    public typealias Keys = Base.Keys

    /// The store of signed frames.
    public let base: Base
    /// The keys.
    public let signing: Signing

    /// Creates the layer over `base`.
    public init(base: Base, signing: Signing) {
        self.base = base
        self.signing = signing
    }

    /// The base's capabilities, compare-and-swap included when the base has it.
    public var capabilities: StoreCapabilities { base.capabilities }

    /// Reads and verifies the record under `key`; a frame past its own expiry reads as `nil`.
    public func get(_ key: SessionKey) async throws -> Record<[UInt8]>? {
        guard let stored = try await base.get(key) else { return nil }
        return try verify(stored, key)
    }

    private func verify(_ stored: Record<[UInt8]>, _ key: SessionKey) throws -> Record<[UInt8]>? {
        let verified: Signing.Verified
        do {
            verified = try signing.verify(stored.value, context: key.rawValue, now: clock.now())
        } catch let error as SessionError where error.code == .expired {
            return nil
        }
        var record = Record(verified.payload, expires: verified.expires, version: stored.version, flags: stored.flags)
        if verified.needsReseal {
            record.flags.insert(.needsReseal)
        }
        return record
    }

    /// Signs `record` and stores it under `key`.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<[UInt8]>) async throws -> RecordVersion? {
        try await base.set(key, to: signed(key, record))
    }

    /// Signs `record` and stores it if the base's version still matches.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<[UInt8]>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(key, expecting: expected, with: signed(key, record))
    }

    /// Re-signs the record under `key` with the new expiry.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        guard let stored = try await base.get(key), var record = try verify(stored, key) else { return false }
        record.expires = expires
        if base.capabilities.compareAndSwap {
            return try await base.compareAndSwap(key, expecting: stored.version, with: signed(key, record)) != nil
        }
        try await base.set(key, to: signed(key, record))
        return true
    }

    private func signed(_ key: SessionKey, _ record: Record<[UInt8]>) -> Record<[UInt8]> {
        Record(signing.sign(record.value, context: key.rawValue, expires: record.expires), expires: record.expires)
    }
}

extension Pipeline where Bottom == [UInt8] {
    /// Adds a ``Signing`` layer under the keys of `keys`.
    public func signed(with keys: KeyRing) -> Pipeline<Top, [UInt8]> {
        layer(Signing(keys: keys))
    }
}
