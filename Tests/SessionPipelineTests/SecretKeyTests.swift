import Foundation
import SessionPipeline
import Testing

struct SecretKeyTests {
    static let bytes: [UInt8] = (0..<32).map { UInt8($0 * 7 + 1) }
    static let base64 = Data(bytes).base64EncodedString()
    static let hex = bytes.map { String(format: "%02x", $0) }.joined()

    @Test func decodesBase64HexAndRawBytesToTheSameKey() throws {
        let raw = try SecretKey(bytes: Self.bytes)
        #expect(try SecretKey(base64: Self.base64) == raw)
        #expect(try SecretKey(base64: "  " + Self.base64 + "\n") == raw)
        let url = Self.base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(try SecretKey(base64: url) == raw)
        #expect(try SecretKey(hex: Self.hex) == raw)
        #expect(try SecretKey(hex: Self.hex.uppercased()) == raw)
        raw.withUnsafeBytes { #expect(Array($0) == Self.bytes) }
    }

    @Test func wrongLengthsAndBadTextAreRefusedWithoutEchoingThem() throws {
        let cases: [() throws -> SecretKey] = [
            { try SecretKey(bytes: Array(Self.bytes.prefix(31))) },
            { try SecretKey(bytes: Self.bytes + [0]) },
            { try SecretKey(base64: Data(Self.bytes.prefix(31)).base64EncodedString()) },
            { try SecretKey(base64: Data(Self.bytes + [1]).base64EncodedString()) },
            { try SecretKey(base64: "not base64 at all!") },
            { try SecretKey(base64: "") },
            { try SecretKey(hex: String(Self.hex.dropLast(2))) },
            { try SecretKey(hex: Self.hex + "00") },
            { try SecretKey(hex: String(Self.hex.dropLast()) + "g") },
        ]
        for make in cases {
            let error = #expect(throws: SessionError.self) { try make() }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(Self.base64.prefix(12)) == false)
            #expect(error?.message.contains(Self.hex.prefix(12)) == false)
        }
    }

    @Test func neverPrintsItsBytes() throws {
        let key = try SecretKey(bytes: Self.bytes)
        for text in [key.description, key.debugDescription, "\(key)", String(reflecting: key), "\([key])"] {
            #expect(text.contains("redacted"))
            #expect(!text.contains(Self.base64.prefix(8)))
            #expect(!text.contains(Self.hex.prefix(8)))
        }
    }

    @Test func randomKeysDifferAndCompareInConstantTime() {
        let keys = (0..<100).map { _ in SecretKey.random() }
        let distinct = Set(keys.map { key in key.withUnsafeBytes { Array($0) } })
        #expect(distinct.count == 100)
        #expect(keys[0] != keys[1])
        #expect(keys[0] == keys[0])
    }

    @Test func readsFromTheEnvironmentAndFromFiles() throws {
        _ = TestVariables.installed
        #expect(try SecretKey(environment: "SESSIONPIPELINE_TEST_KEY") == SecretKey(bytes: Self.bytes))
        let missing = #expect(throws: SessionError.self) { try SecretKey(environment: "SESSIONPIPELINE_NO_SUCH_KEY") }
        #expect(missing?.code == .invalidConfiguration)

        let directory = try TemporaryDirectory("keys")
        defer { directory.remove() }
        let path = directory.path + "/key"
        try (Self.hex + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try SecretKey(contentsOfFile: path) == SecretKey(bytes: Self.bytes))
        let unreadable = #expect(throws: SessionError.self) { try SecretKey(contentsOfFile: directory.path + "/none") }
        #expect(unreadable?.code == .io)
    }

    @Test func subkeysDependOnKeyIDAndContext() throws {
        let key = try SecretKey(bytes: Self.bytes)
        let a = key.derive(subkey: 1, context: "SPsign01")
        #expect(a == key.derive(subkey: 1, context: "SPsign01"))
        #expect(a != key.derive(subkey: 2, context: "SPsign01"))
        #expect(a != key.derive(subkey: 1, context: "SPother1"))
        #expect(a != key)
        #expect(a != SecretKey.random().derive(subkey: 1, context: "SPsign01"))
    }
}

struct KeyRingTests {
    static func base64(_ seed: UInt8) -> String {
        Data((0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 3 + Int(seed)) }).base64EncodedString()
    }

    @Test func parsesTheTextFormPrimaryFirst() throws {
        let ring = try KeyRing(text: "3:\(Self.base64(3)), 2:\(Self.base64(2)),\n1:\(Self.base64(1))")
        #expect(ring.primary.id == 3)
        #expect(ring.ids == [3, 2, 1])
        #expect(try ring.key(id: 2) == SecretKey(base64: Self.base64(2)))
        #expect(ring.key(id: 9) == nil)
        #expect(ring.description == "KeyRing(primary 3; also 2, 1)")
    }

    @Test(arguments: [
        ("", "entry 1"),
        ("3", "entry 1 is not in the form"),
        ("x:AAAA", "no valid key id"),
        ("3:tooshort", "entry 1 (id 3)"),
        ("3:\(base64(3)),3:\(base64(4))", "appears twice"),
        ("3:\(base64(3)),,2:\(base64(2))", "entry 2"),
        ("4294967296:\(base64(3))", "no valid key id"),
    ])
    func refusesMalformedTextNamingTheEntryButNotTheKey(_ text: String, reason: String) throws {
        let error = #expect(throws: SessionError.self) { try KeyRing(text: text) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(Self.base64(3)) == false)
    }

    @Test func readsFromTheEnvironmentAndFromFiles() throws {
        let text = TestVariables.ring
        _ = TestVariables.installed
        #expect(try KeyRing(environment: "SESSIONPIPELINE_TEST_KEYS").ids == [7, 5])
        let directory = try TemporaryDirectory("ring")
        defer { directory.remove() }
        try (text + "\n").write(toFile: directory.path + "/keys", atomically: true, encoding: .utf8)
        #expect(try KeyRing(contentsOfFile: directory.path + "/keys").ids == [7, 5])
    }

    @Test func refusesDuplicateIDsWhenBuiltFromKeys() throws {
        let key = SecretKey.random()
        #expect(throws: SessionError.self) {
            try KeyRing(primary: .init(id: 1, key: key), older: [.init(id: 1, key: SecretKey.random())])
        }
    }
}

/// Environment variables for these tests, set once per process: changing the environment while
/// other threads read it is not safe.
enum TestVariables {
    static let ring = "7:\(KeyRingTests.base64(7)),5:\(KeyRingTests.base64(5))"
    static let installed: Bool = {
        setenv("SESSIONPIPELINE_TEST_KEY", SecretKeyTests.base64, 1)
        setenv("SESSIONPIPELINE_TEST_KEYS", ring, 1)
        return true
    }()
}
