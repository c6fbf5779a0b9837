/// CSRF tokens bound to a session: a random 32-byte secret kept in the session, handed out
/// masked.
///
/// Every token is `base64url(mask ‖ (secret ⊕ mask))` with a fresh random 32-byte mask, so two
/// tokens for one session never look alike. That keeps the secret out of reach of compression
/// side channels (BREACH) when a token is embedded in compressed pages. Verification unmasks the
/// token and compares it with the secret in constant time.
enum CSRFToken {
    /// The length of the secret in bytes.
    static let secretLength = 32

    /// A new random secret.
    static func newSecret() -> [UInt8] {
        Sodium.randomBytes(secretLength)
    }

    /// A freshly masked token for `secret`.
    static func mask(_ secret: [UInt8]) -> String {
        let mask = Sodium.randomBytes(secretLength)
        var token = mask
        token.reserveCapacity(2 * secretLength)
        for index in 0..<secretLength {
            token.append(secret[index] ^ mask[index])
        }
        return Base64.urlEncodedString(token)
    }

    /// Whether `token` is a masked form of `secret`; the comparison takes the same time wherever
    /// the bytes differ.
    static func verify(_ token: some StringProtocol, secret: [UInt8]) -> Bool {
        guard token.utf8.count <= 128, let bytes = Base64.decode(token.utf8, url: true),
            bytes.count == 2 * secretLength
        else { return false }
        var unmasked = [UInt8](repeating: 0, count: secretLength)
        for index in 0..<secretLength {
            unmasked[index] = bytes[index] ^ bytes[secretLength + index]
        }
        return Sodium.constantTimeEqual(unmasked, secret)
    }
}
