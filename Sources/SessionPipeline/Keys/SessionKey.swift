#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key a store files a record under, in Catalyst's `prefix:id` form.
///
/// The prefixes ``Prefix/session``, ``Prefix/expires`` and ``Prefix/flash`` name a session's data,
/// its expiry and its flash values; any other prefix (``Prefix/user`` for a per-user index, or one
/// of your own) extends the scheme. The prefix ends at the first colon; the identifier may contain
/// further colons.
///
/// Keys are validated when they are made, so no store ever sees a bad one. A key is refused when
/// it is empty, has no prefix or no identifier, is longer than ``maximumLength`` bytes of UTF-8,
/// contains a control character (U+0000–U+001F, U+007F–U+009F), a `/` or `\`, or the sequence
/// `..`; a prefix must be ASCII letters, digits, `_` or `-`.
///
/// ```swift
/// let key = SessionKey.session(SessionID.random())     // session:<43 characters>
/// let user = try SessionKey(prefix: .user, id: "alice") // user:alice
/// let parsed = try SessionKey("flash:abc")
/// try SessionKey("session:../../etc/passwd")             // throws .invalidKey
/// ```
public struct SessionKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest key accepted, in bytes of UTF-8: room for any prefix and a long identifier
    /// (an e-mail address, a 512-bit hash in hex) while staying well inside column and file-name
    /// limits of every driver.
    public static let maximumLength = 256

    /// The whole key, `prefix:id`.
    public let rawValue: String
    private let prefixLength: Int

    /// The part before the first colon.
    public var prefix: Prefix {
        Prefix(unchecked: String(rawValue.utf8.prefix(prefixLength))!)
    }

    /// The part after the first colon.
    public var id: String {
        String(rawValue.utf8.dropFirst(prefixLength + 1))!
    }

    /// Parses and validates a key in `prefix:id` form.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidKey`` saying what is wrong
    ///   (the message never repeats the key, which may hold a session identifier).
    public init(_ rawValue: String) throws {
        self.prefixLength = try Self.validate(rawValue)
        self.rawValue = rawValue
    }

    /// Makes a key from a prefix and an identifier.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidKey`` when the result is not
    ///   a valid key.
    public init(prefix: Prefix, id: String) throws {
        try self.init(prefix.rawValue + ":" + id)
    }

    private init(validated rawValue: String, prefixLength: Int) {
        self.rawValue = rawValue
        self.prefixLength = prefixLength
    }

    /// `session:ID`, the key of a session's data.
    public static func session(_ id: SessionID) -> SessionKey {
        SessionKey(validated: "session:" + id.rawValue, prefixLength: 7)
    }

    /// `expires:ID`, Catalyst's key for a session's expiry.
    public static func expires(_ id: SessionID) -> SessionKey {
        SessionKey(validated: "expires:" + id.rawValue, prefixLength: 7)
    }

    /// `flash:ID`, the key of a session's flash values.
    public static func flash(_ id: SessionID) -> SessionKey {
        SessionKey(validated: "flash:" + id.rawValue, prefixLength: 5)
    }

    /// The same identifier under another prefix.
    public func replacingPrefix(with prefix: Prefix) throws -> SessionKey {
        try SessionKey(prefix: prefix, id: id)
    }

    /// The key text.
    public var description: String { rawValue }

    /// The prefix and the identifier's first four characters, `session:4Zr8…`: enough to tell keys
    /// apart in a log, not enough to use one.
    public var redacted: String {
        let id = self.id
        return "\(prefix):" + (id.count > 4 ? String(id.prefix(4)) + "…" : id)
    }

    /// Keys are equal when their UTF-8 bytes are: two spellings of "é" (precomposed and combining)
    /// are different keys, as they are different file names and database values.
    public static func == (lhs: SessionKey, rhs: SessionKey) -> Bool {
        var left = lhs.rawValue
        var right = rhs.rawValue
        return left.withUTF8 { left in
            right.withUTF8 { right in
                left.count == right.count
                    && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
    }

    /// Hashes the key's UTF-8 bytes, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        var text = rawValue
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Orders keys by the bytes of their UTF-8 text.
    public static func < (lhs: SessionKey, rhs: SessionKey) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    /// Checks `raw` and returns the length of its prefix in bytes.
    private static func validate(_ raw: String) throws -> Int {
        func refuse(_ reason: String) -> SessionError {
            SessionError(.invalidKey, reason, layer: "SessionKey")
        }
        var text = raw
        let count = text.utf8.count
        if count == 0 { throw refuse("the key is empty") }
        if count > maximumLength {
            throw refuse("the key is \(count) bytes long; the limit is \(maximumLength)")
        }
        // One pass over the bytes. A String's UTF-8 is valid, so 0xC2 always starts a two-byte
        // sequence: followed by 0x80–0x9F it is a C1 control character (U+0080–U+009F).
        let scan: (prefixLength: Int?, fault: String?) = text.withUTF8 { bytes in
            var prefixLength: Int?
            var previous: UInt8 = 0
            for offset in bytes.indices {
                let byte = bytes[offset]
                switch byte {
                case 0x00...0x1F, 0x7F:
                    return (nil, "the key contains a control character at byte \(offset)")
                case 0x80...0x9F where previous == 0xC2:
                    return (nil, "the key contains a control character at byte \(offset - 1)")
                case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                    return (nil, "the key contains a path separator at byte \(offset)")
                case UInt8(ascii: ".") where previous == UInt8(ascii: "."):
                    return (nil, "the key contains '..' at byte \(offset - 1)")
                case UInt8(ascii: ":") where prefixLength == nil:
                    prefixLength = offset
                default:
                    if prefixLength == nil && !Prefix.isPrefixCharacter(byte) {
                        return (nil, "the prefix contains a character other than A-Z, a-z, 0-9, '_' or '-'")
                    }
                }
                previous = byte
            }
            return (prefixLength, nil)
        }
        if let fault = scan.fault { throw refuse(fault) }
        guard let prefixLength = scan.prefixLength else { throw refuse("the key has no prefix (expected prefix:id)") }
        if prefixLength == 0 { throw refuse("the prefix is empty (expected prefix:id)") }
        if prefixLength > Prefix.maximumLength {
            throw refuse("the prefix is longer than \(Prefix.maximumLength) bytes")
        }
        if prefixLength == count - 1 { throw refuse("the identifier is empty (expected prefix:id)") }
        return prefixLength
    }
}

extension SessionKey {
    /// The part of a key before the colon: what kind of record the key names.
    ///
    /// ```swift
    /// let tenant: SessionKey.Prefix = "tenant"                     // a literal, checked at run time
    /// let named = try SessionKey.Prefix(validating: configuredName) // text from elsewhere
    /// ```
    public struct Prefix: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The longest prefix accepted, in bytes.
        public static let maximumLength = 64

        /// The prefix text.
        public let rawValue: String

        /// Validates a prefix: 1 to ``maximumLength`` ASCII letters, digits, `_` or `-`.
        ///
        /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidKey``.
        public init(validating rawValue: String) throws {
            let utf8 = rawValue.utf8
            guard !utf8.isEmpty, utf8.count <= Self.maximumLength, utf8.allSatisfy(Self.isPrefixCharacter) else {
                throw SessionError(
                    .invalidKey,
                    "a prefix is 1 to \(Self.maximumLength) characters from A-Z, a-z, 0-9, '_' and '-'",
                    layer: "SessionKey"
                )
            }
            self.rawValue = rawValue
        }

        /// Creates a prefix from a literal written in code.
        ///
        /// - Precondition: the literal is a valid prefix (a programming error otherwise).
        public init(stringLiteral value: String) {
            do {
                try self.init(validating: value)
            } catch {
                preconditionFailure("invalid session key prefix literal: \(error)")
            }
        }

        init(unchecked rawValue: String) {
            self.rawValue = rawValue
        }

        /// `session`: a session's data.
        public static let session = Prefix(unchecked: "session")
        /// `expires`: a session's expiry, as Catalyst stores it.
        public static let expires = Prefix(unchecked: "expires")
        /// `flash`: values that live until read once.
        public static let flash = Prefix(unchecked: "flash")
        /// `user`: a per-user index of sessions.
        public static let user = Prefix(unchecked: "user")

        /// The prefix text.
        public var description: String { rawValue }

        static func isPrefixCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
