import Foundation
import Serializers
import SessionPipeline
import Testing

/// A random 32-byte key as base64 (test material, never a real key).
func randomKeyText() -> String {
    Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
}

/// Checks a refusal: the status, nothing on standard output, one line on standard error.
func expectRefused(_ finished: Finished, status: Int32, _ comment: Comment? = nil) {
    #expect(finished.status == status, comment)
    #expect(finished.output.isEmpty, comment)
    #expect(finished.error.hasPrefix("sessionctl: "), comment)
    #expect(finished.error.filter { $0 == "\n" }.count == 1, comment)
}

struct EnvelopeCommandTests {
    @Test func keygenPrintsAFreshKeyAndItsKeyRingLine() async throws {
        let first = try await sessionctl(["keygen", "--id", "7"])
        let second = try await sessionctl(["keygen"])
        #expect(first.status == 0)
        let lines = first.text.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(Data(base64Encoded: lines[0])?.count == 32)
        #expect(lines[1] == "SESSION_KEYS=7:" + lines[0])
        #expect(second.text.split(separator: "\n").last?.hasPrefix("SESSION_KEYS=1:") == true)
        #expect(second.text.split(separator: "\n").first.map(String.init) != lines[0])
        // The line is a key ring the library reads.
        #expect(try KeyRing(text: String(lines[1].dropFirst("SESSION_KEYS=".count))).ids == [7])
    }

    @Test func sealThenOpenGivesBackExactlyThePlaintextBytes() async throws {
        let key = randomKeyText()
        for plaintext in [[], [0], Array("line\n".utf8), (0..<5000).map { _ in UInt8.random(in: 0...255) }] {
            let sealed = try await sessionctl(
                ["seal", "--key-base64", key, "--key-id", "3", "--context", "session:abc"], input: plaintext)
            #expect(sealed.status == 0)
            #expect(sealed.text.hasSuffix("\n"))
            let text = sealed.text.dropLast()
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            let opened = try await sessionctl(
                ["open", "--key-base64", key, "--context", "session:abc"], input: sealed.output)
            #expect(opened.status == 0)
            #expect(opened.output == plaintext)
            #expect(opened.error.isEmpty)
        }
    }

    @Test func openTriesBareKeysAndPicksRingKeysById() async throws {
        let (old, new, other) = (randomKeyText(), randomKeyText(), randomKeyText())
        let sealed = try await sessionctl(
            ["seal", "--key-base64", old, "--key-id", "1", "--context", "c"], input: Array("hello".utf8))
        let tried = try await sessionctl(
            ["open", "--key-base64", other, "--key-base64", old, "--context", "c"], input: sealed.output)
        #expect(tried.text == "hello")
        let ring = ["SESSION_TEST_RING": "2:\(new),1:\(old)"]
        let byID = try await sessionctl(
            ["open", "--keys-env", "SESSION_TEST_RING", "--context", "c"], input: sealed.output, environment: ring)
        #expect(byID.text == "hello")
        let directory = try TemporaryDirectory("ring")
        defer { directory.remove() }
        try "2:\(new),\n1:\(old)\n".write(toFile: directory.path + "/keys", atomically: true, encoding: .utf8)
        let fromFile = try await sessionctl(
            ["open", "--keys-file", directory.path + "/keys", "--context", "c"], input: sealed.output)
        #expect(fromFile.text == "hello")
        // A ring seals with its primary key.
        let resealed = try await sessionctl(
            ["seal", "--keys-env", "SESSION_TEST_RING", "--context", "c"], input: Array("x".utf8), environment: ring)
        let header = try await sessionctl(["inspect"], input: resealed.output)
        #expect(header.text.contains("key id: 2"))
    }

    @Test func envelopesThatMustNotOpenExitWithOneLineAndNoOutput() async throws {
        let (key, other) = (randomKeyText(), randomKeyText())
        let sealed = try await sessionctl(
            ["seal", "--key-base64", key, "--key-id", "1", "--context", "session:a", "--expires", "2000"],
            input: Array("secret".utf8))
        let open = ["open", "--key-base64", key, "--context", "session:a", "--now", "1500"]
        #expect(try await sessionctl(open, input: sealed.output).text == "secret")

        var tampered = sealed.output
        let middle = tampered.count / 2
        tampered[middle] = tampered[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expectRefused(try await sessionctl(open, input: tampered), status: 1, "tampered")
        let expired = ["open", "--key-base64", key, "--context", "session:a", "--now", "2000"]
        let late = try await sessionctl(expired, input: sealed.output)
        expectRefused(late, status: 1, "expired")
        #expect(late.error.contains("expired"))
        let wrongContext = ["open", "--key-base64", key, "--context", "session:b", "--now", "1500"]
        expectRefused(try await sessionctl(wrongContext, input: sealed.output), status: 1, "another context")
        let wrongKey = ["open", "--key-base64", other, "--context", "session:a", "--now", "1500"]
        expectRefused(try await sessionctl(wrongKey, input: sealed.output), status: 1, "another key")
        let unknown = try await sessionctl(
            ["open", "--keys-env", "SESSION_TEST_RING", "--context", "session:a", "--now", "1500"],
            input: sealed.output, environment: ["SESSION_TEST_RING": "5:\(key)"])
        expectRefused(unknown, status: 1, "unknown key id")
        #expect(unknown.error.contains("key id 1"))
        expectRefused(try await sessionctl(open, input: Array("not base64!".utf8)), status: 2, "not base64url")
        expectRefused(try await sessionctl(open, input: Array("AAAA".utf8)), status: 2, "too short")
        // No key material in any message.
        for finished in [late, unknown] {
            #expect(!finished.error.contains(key))
        }
        // Usage errors are argument-parser's, with status 64.
        #expect(try await sessionctl(["open", "--context", "c"]).status == 64)
        #expect(try await sessionctl(["seal", "--key-base64", key, "--context", "c"]).status == 64)
    }

    @Test func envelopesTravelBothWaysWithAnIndependentImplementation() async throws {
        let key = randomKeyText()
        let plaintext = (0..<3000).map { _ in UInt8.random(in: 0...255) }
        let sealed = try await sessionctl(
            ["seal", "--key-base64", key, "--key-id", "4", "--context", "sp_session", "--expires", "4102444800"],
            input: plaintext)
        let opened = try await independentImplementation(["open", key, "sp_session"], input: sealed.output)
        if opened.status == 3 && ProcessInfo.processInfo.environment["CI"] == nil {
            print("independent check skipped: python3 with the cryptography package is missing")
            return
        }
        #expect(opened.status == 0, "\(opened.error)")
        #expect(opened.output == plaintext)
        let foreign = try await independentImplementation(
            ["seal", key, "9", "session:xyz", "0"], input: plaintext)
        #expect(foreign.status == 0, "\(foreign.error)")
        let back = try await sessionctl(
            ["open", "--key-base64", key, "--context", "session:xyz"], input: foreign.output)
        #expect(back.status == 0, "\(back.error)")
        #expect(back.output == plaintext)
        let header = try await sessionctl(["inspect"], input: foreign.output)
        #expect(header.text.contains("key id: 9"))
        #expect(header.text.contains("expires: never"))
    }

    @Test func inspectShowsTheHeaderWithoutKeysAndTheSessionWithThem() async throws {
        let key = randomKeyText()
        let value: SessionValue = [
            "user": "alice", "cart": [1, 2, 3], "note": .string(String(repeating: "ab", count: 200)),
        ]
        let payload = Compression(.zstd(), threshold: 0).compress(try MessagePackSerializer().serialize(value))
        let sealed = try await sessionctl(
            ["seal", "--key-base64", key, "--key-id", "12", "--context", "session:abc", "--expires", "1900000000"],
            input: payload)
        let header = try await sessionctl(["inspect", String(decoding: sealed.output, as: UTF8.self)])
        #expect(header.status == 0)
        #expect(header.text.contains("version: 1"))
        #expect(header.text.contains("key id: 12"))
        #expect(header.text.contains("expires: 1900000000"))
        #expect(!header.text.contains("session:"))
        let cookie = Array("sp_session=".utf8) + sealed.output
        let full = try await sessionctl(
            ["inspect", "--key-base64", key, "--context", "session:abc", "--now", "1800000000"], input: cookie)
        #expect(full.status == 0, "\(full.error)")
        #expect(full.text.contains("payload: binary, zstd"))
        #expect(full.text.contains(#""user":"alice""#))
        #expect(full.text.contains(#""cart":[1,2,3]"#))
        expectRefused(
            try await sessionctl(["inspect", "--key-base64", key, "--context", "session:other"], input: sealed.output),
            status: 1)
    }

    @Test func benchPrintsATableOfTheHeadlinePipelines() async throws {
        let bench = try await sessionctl(["bench", "--seconds", "0.002"])
        #expect(bench.status == 0, "\(bench.error)")
        let rows = bench.text.split(separator: "\n").dropFirst().map {
            $0.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(rows.count == 14)
        for row in rows {
            #expect(row.count >= 3)
            #expect(Double(row[2]).map { $0 > 0 } == true, "\(row)")
        }
        #expect(bench.text.contains("cookie round trip: binary + zstd + XChaCha20-Poly1305"))
        #expect(bench.text.contains("store get, cache hit"))
    }
}
