import Foundation
import SessionPipeline
import Testing

/// One entry of `docs/vectors/envelope-v1.json`.
struct EnvelopeVector: Codable, Sendable, CustomTestStringConvertible {
    let name: String
    let keyHex: String
    let keyID: UInt32
    let context: String
    /// Unix seconds, 0 for none.
    let expires: Int64
    let plaintextHex: String
    let envelopeB64url: String

    enum CodingKeys: String, CodingKey {
        case name, context, expires
        case keyHex = "key_hex"
        case keyID = "key_id"
        case plaintextHex = "plaintext_hex"
        case envelopeB64url = "envelope_b64url"
    }

    var testDescription: String { name }
}

let envelopeVectorsURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("docs/vectors/envelope-v1.json")

func loadEnvelopeVectors() -> [EnvelopeVector] {
    guard let data = try? Data(contentsOf: envelopeVectorsURL) else { return [] }
    return (try? JSONDecoder().decode([EnvelopeVector].self, from: data)) ?? []
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

private func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

struct EnvelopeVectorTests {
    /// Opening time for the vectors: before every expiry they carry.
    static let now: UnixTime = 1_700_000_000

    @Test func thereAreAtLeastTenVectorsCoveringTheCases() {
        let vectors = loadEnvelopeVectors()
        #expect(vectors.count >= 10)
        let lengths = Set(vectors.map { $0.plaintextHex.count / 2 })
        #expect(lengths.isSuperset(of: [0, 1, 1024, 65_536]))
        #expect(vectors.contains { $0.expires == 0 } && vectors.contains { $0.expires > 4_000_000_000 })
        #expect(Set(vectors.map(\.keyID)).count >= 3)
        #expect(vectors.contains { $0.context.unicodeScalars.contains { !$0.isASCII } })
    }

    @Test(arguments: loadEnvelopeVectors())
    func everyVectorOpens(_ vector: EnvelopeVector) throws {
        let key = try SecretKey(hex: vector.keyHex)
        let encryption = Encryption(keys: KeyRing(id: vector.keyID, key: key))
        let envelope = try #require(Base64.decode(vector.envelopeB64url.utf8, url: true))
        let opened = try encryption.open(envelope, context: vector.context, now: Self.now)
        #expect(hex(opened.plaintext) == vector.plaintextHex)
        #expect(opened.keyID == vector.keyID)
        #expect(opened.expires?.seconds ?? 0 == vector.expires)
        #expect(Base64.urlEncodedString(envelope) == vector.envelopeB64url)
    }

    @Test func anIndependentXChaCha20Poly1305OpensEveryVector() throws {
        let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/check_envelopes.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", checker, envelopeVectorsURL.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        print(text)
        if process.terminationStatus == 3 && ProcessInfo.processInfo.environment["CI"] == nil {
            return  // outside CI, a missing python3 or cryptography skips this check (reason printed above)
        }
        #expect(process.terminationStatus == 0, "\(text)")
    }

    /// Rewrites the vectors. Run with `SESSION_WRITE_VECTORS=1 swift test --filter EnvelopeVectorTests`
    /// only when adding vectors: existing ones are the promise that old envelopes keep opening.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SESSION_WRITE_VECTORS"] == "1"))
    func writeVectors() throws {
        let keyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        let keyB = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
        let keyC = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        let pattern = { (count: Int) in (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) } }
        let cases: [(String, String, UInt32, String, Int64, [UInt8])] = [
            ("empty plaintext", keyA, 1, "session:abc", 0, []),
            ("one byte", keyA, 1, "session:abc", 0, [0x2A]),
            ("1 KiB", keyA, 1, "session:4Zr8xQ2uKfW7nY1oTb3cLd9eHm5jVs6pGa0iRw-_Nq", 1_718_001_800, pattern(1024)),
            ("64 KiB", keyB, 2, "session:big", 0, pattern(65_536)),
            ("unicode context", keyA, 1, "user:jérôme-日本語-🌍", 0, Array("hello".utf8)),
            ("expiry far in the future", keyB, 2, "session:abc", 4_102_444_800, Array("until 2100".utf8)),
            ("expiry at the end of year 9999", keyB, 2, "session:abc", 253_402_300_799, [1, 2, 3]),
            ("key id 0", keyC, 0, "flash:abc", 0, Array("flash".utf8)),
            ("key id 4294967295", keyC, 4_294_967_295, "expires:abc", 1_900_000_000, [0xFF]),
            ("a cookie name as context", keyA, 3, "sp_session", 1_718_001_800, [0x20] + Array(#"{"count":1}"#.utf8)),
            ("a JSON session", keyB, 7, "session:json", 0, [0x20] + Array(#"{"cart":[],"user":"alice"}"#.utf8)),
            ("a namespaced key", keyC, 12, "shop:session:abc", 2_000_000_000, pattern(300)),
        ]
        var vectors: [EnvelopeVector] = []
        for (name, keyHex, keyID, context, expires, plaintext) in cases {
            let encryption = Encryption(keys: KeyRing(id: keyID, key: try SecretKey(hex: keyHex)))
            let envelope = encryption.seal(
                plaintext, context: context, expires: expires == 0 ? nil : UnixTime(seconds: expires))
            vectors.append(
                EnvelopeVector(
                    name: name,
                    keyHex: keyHex,
                    keyID: keyID,
                    context: context,
                    expires: expires,
                    plaintextHex: hex(plaintext),
                    envelopeB64url: Base64.urlEncodedString(envelope)
                )
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(vectors) + Data("\n".utf8)).write(to: envelopeVectorsURL)
    }
}
