import SessionPipeline
import Testing

struct SessionKeyTests {
    @Test(arguments: [
        "session:abc", "expires:abc", "flash:abc", "user:alice", "user:jane doe", "user:a:b:c", "my_app-2:x",
        "session:.", "session:a.b", "user:日本語", "session:" + String(repeating: "x", count: 248),
        // Two-byte characters next to the C1 range: 0xC2 0xA0, 0xC3 0x80, 0xC4 0x80, 0xC2 0xBF.
        "user:\u{A0}x", "user:\u{C0}", "user:\u{100}", "user:\u{BF}",
    ])
    func acceptsValidKeys(_ text: String) throws {
        let key = try SessionKey(text)
        #expect(key.rawValue == text)
        #expect(key.prefix.rawValue + ":" + key.id == text)
    }

    @Test(arguments: [
        ("", "empty"),
        ("session", "no prefix"),
        (":abc", "prefix is empty"),
        ("session:", "identifier is empty"),
        ("session:../../etc/passwd", "'..'"),
        ("session:a/b", "path separator"),
        ("session:a\\b", "path separator"),
        ("session:..", "'..'"),
        ("session:ok..", "'..'"),
        ("session:a\u{0}b", "control character"),
        ("session:a\nb", "control character"),
        ("session:\u{7F}", "control character"),
        ("session:\u{9B}", "control character"),
        ("session:\u{80}", "control character at byte 8"),
        ("session:ab\u{9F}", "control character at byte 10"),
        ("session:\u{85}/", "control character at byte 8"),
        ("bad prefix:x", "prefix"),
        ("sess/ion:x", "path separator"),
        ("session:" + String(repeating: "x", count: 249), "limit is 256"),
        (String(repeating: "p", count: 65) + ":x", "prefix is longer"),
    ])
    func refusesInvalidKeysWithAReason(_ text: String, reason: String) throws {
        let error = #expect(throws: SessionError.self) { try SessionKey(text) }
        #expect(error?.code == .invalidKey)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "") should mention \(reason)")
    }

    @Test func errorMessagesNeverRepeatTheKey() throws {
        let secret = "Zm9vYmFyYmF6cXV4c2VjcmV0aWQ"
        let error = #expect(throws: SessionError.self) { try SessionKey("session:\(secret)/x") }
        #expect(error?.description.contains(secret) == false)
    }

    @Test func sessionFlashAndExpiresKeysShareTheIdentifier() throws {
        let id = SessionID.random()
        #expect(SessionKey.session(id).rawValue == "session:" + id.rawValue)
        #expect(SessionKey.flash(id).id == id.rawValue)
        #expect(SessionKey.expires(id).prefix == .expires)
        #expect(try SessionKey.session(id).replacingPrefix(with: .flash) == .flash(id))
    }

    @Test func customPrefixesAreValidated() throws {
        #expect(try SessionKey(prefix: SessionKey.Prefix(validating: "tenant_a"), id: "x").rawValue == "tenant_a:x")
        #expect(throws: SessionError.self) { try SessionKey.Prefix(validating: "has space") }
        #expect(throws: SessionError.self) { try SessionKey.Prefix(validating: "") }
    }

    @Test func randomSessionIDsAre256BitsOfBase64URL() throws {
        let ids = (0..<1000).map { _ in SessionID.random().rawValue }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(20) {
            #expect(id.utf8.count == 43)
            #expect(try SessionID(id).rawValue == id)
        }
        #expect(SessionID.random().description.hasSuffix("…"))
        #expect(throws: SessionError.self) { try SessionID("short") }
        #expect(throws: SessionError.self) { try SessionID(String(repeating: "a", count: 20) + "/") }
    }

    @Test func keysOrderByTheirBytes() throws {
        let keys = try ["user:b", "session:a", "flash:z"].map(SessionKey.init)
        #expect(keys.sorted().map(\.rawValue) == ["flash:z", "session:a", "user:b"])
    }
}

struct SessionKeyEqualityTests {
    @Test func keysCompareByTheirBytesNotByUnicodeEquivalence() throws {
        let precomposed = try SessionKey("user:\u{E9}")
        let combining = try SessionKey("user:e\u{301}")
        #expect(precomposed.rawValue == combining.rawValue)  // Swift strings call them equal
        #expect(precomposed != combining)
        #expect(Set([precomposed, combining]).count == 2)
    }

    @Test func bothSpellingsAreSeparateRecordsInEveryDriver() async throws {
        let precomposed = try SessionKey("user:\u{E9}")
        let combining = try SessionKey("user:e\u{301}")
        let memory = MemoryDriver<[UInt8]>(clock: ManualClock())
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try FileDriver(root: directory.path, configuration: .init(durability: .none), clock: ManualClock())
        for driver in [AnyRecordStore(memory), AnyRecordStore(file)] {
            try await driver.set(precomposed, to: Record([1]))
            try await driver.set(combining, to: Record([2]))
            #expect(try await driver.get(precomposed)?.value == [1])
            #expect(try await driver.get(combining)?.value == [2])
        }
    }
}
