import SessionPipeline
import Testing

struct SigningTests {
    static let key = SecretKey.random()
    static let signing = Signing(keys: KeyRing(id: 7, key: key))
    static let now: UnixTime = 1_700_000_000

    @Test func signsTheDocumentedFrameAndVerifiesIt() throws {
        let payload: [UInt8] = Array("hello, world".utf8)
        let frame = Self.signing.sign(payload, context: "session:abc", expires: 1_800_000_000)
        #expect(frame.count == payload.count + 45)
        #expect(frame[0] == 0x02)
        #expect(Array(frame[1..<5]) == [0, 0, 0, 7])
        #expect(Array(frame[13..<(13 + payload.count)]) == payload)
        let verified = try Self.signing.verify(frame, context: "session:abc", now: Self.now)
        #expect(verified.payload == payload && verified.keyID == 7 && verified.expires == 1_800_000_000)
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let frame = Self.signing.sign((0..<200).map { UInt8($0) }, context: "session:abc", expires: nil)
        for byte in frame.indices {
            for bit in 0..<8 {
                var flipped = frame
                flipped[byte] ^= 1 << bit
                let error = #expect(throws: SessionError.self) {
                    try Self.signing.verify(flipped, context: "session:abc", now: Self.now)
                }
                let expected: SessionError.Code =
                    switch byte {
                    case 0: .malformed
                    case 1...4: .unknownKeyID
                    default: .authenticationFailed
                    }
                #expect(error?.code == expected, "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test func payloadAndContextCannotTradeBytes() throws {
        // Without the payload's length in the MAC, "ab" + "user:c" and "abu" + "ser:c" would
        // authenticate the same bytes.
        let frame = Self.signing.sign(Array("ab".utf8), context: "sion:abc", expires: nil)
        var shifted = Array(frame.dropLast(32)) + Array("se".utf8)
        shifted += frame.suffix(32)
        let error = #expect(throws: SessionError.self) {
            try Self.signing.verify(shifted, context: "sion:abc", now: Self.now)
        }
        #expect(error?.code == .authenticationFailed)
        #expect(throws: SessionError.self) { try Self.signing.verify(frame, context: "session:abc", now: Self.now) }
    }

    @Test func theMACKeyIsASubkeyNotTheRingKey() throws {
        let frame = Self.signing.sign([1, 2, 3], context: "session:abc", expires: nil)
        let derived = Self.key.derive(subkey: 1, context: Signing.keyDerivationContext)
        // A signer whose ring key *is* the derived subkey derives a different MAC key again.
        let other = Signing(keys: KeyRing(id: 7, key: derived))
        #expect(throws: SessionError.self) { try other.verify(frame, context: "session:abc", now: Self.now) }
    }

    @Test func olderKeysVerifyWithAResealFlagAndExpiryIsEnforced() throws {
        let rotated = Signing(
            keys: try KeyRing(primary: .init(id: 8, key: SecretKey.random()), older: [.init(id: 7, key: Self.key)]))
        let frame = Self.signing.sign([1], context: "s:x", expires: Self.now + .seconds(5))
        #expect(try rotated.verify(frame, context: "s:x", now: Self.now).needsReseal)
        let error = #expect(throws: SessionError.self) {
            try rotated.verify(frame, context: "s:x", now: Self.now + .seconds(5))
        }
        #expect(error?.code == .expired)
        let unknown = #expect(throws: SessionError.self) {
            try Signing(keys: KeyRing(id: 8, key: SecretKey.random())).verify(frame, context: "s:x", now: Self.now)
        }
        #expect(unknown?.code == .unknownKeyID)
    }
}
