/// A session identifier: the secret a client presents to find its session.
///
/// ``random()`` draws 256 bits from libsodium's `randombytes_buf` and writes them as 43
/// characters of unpadded base64url. Identifiers from elsewhere (a framework being migrated
/// from) are accepted when they are 16 to 128 characters of `A-Z a-z 0-9 - _`.
///
/// ```swift
/// let id = SessionID.random()
/// let key = SessionKey.session(id)
/// ```
///
/// - Warning: An identifier is a bearer secret. ``description`` shows only its first four
///   characters; use ``rawValue`` where the whole identifier is needed (a cookie, a store key).
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier text.
    public let rawValue: String

    /// The shortest identifier accepted.
    public static let minimumLength = 16
    /// The longest identifier accepted.
    public static let maximumLength = 128

    /// Validates an identifier: 16 to 128 characters of `A-Z a-z 0-9 - _`.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidKey``.
    public init(_ rawValue: String) throws {
        let utf8 = rawValue.utf8
        guard (Self.minimumLength...Self.maximumLength).contains(utf8.count),
            utf8.allSatisfy({ Base64.urlAlphabetIndex($0) != nil })
        else {
            throw SessionError(
                .invalidKey,
                "a session id is \(Self.minimumLength) to \(Self.maximumLength) characters of A-Z a-z 0-9 - _",
                layer: "SessionID"
            )
        }
        self.rawValue = rawValue
    }

    private init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    /// A new identifier of 256 random bits (43 base64url characters).
    public static func random() -> SessionID {
        SessionID(unchecked: Base64.urlEncodedString(Sodium.randomBytes(32)))
    }

    /// The first four characters followed by `…`, so logs can tell sessions apart without
    /// recording a usable identifier.
    public var description: String {
        String(rawValue.prefix(4)) + "…"
    }
}
