import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

/// Client-mode requests decode only the keys they use: the rest of the session goes from the
/// request's cookie into the response's byte for byte.
struct WebSplicingTests {
    let clock = ManualClock(now: UnixTime(seconds: 1_700_000_000))

    /// The data entries of the session in the browser's cookie, still encoded.
    func dataEntries(_ browser: Browser, _ codec: CookieCodec) throws -> [EncodedEntry] {
        let serializer = MessagePackSerializer()
        let opened = try #require(try codec.readPayload(browser.cookies, now: clock.now()))
        let record = try #require(try serializer.entries(of: EncodedValue(payload: opened.payload)))
        let data = try #require(record.first { $0.key == "data" })
        return try #require(try serializer.entries(of: data.value))
    }

    @Test func untouchedEntriesAreNeverDecodedAndPassThroughByteForByte() async throws {
        let codec = try WebFixtures.codec()
        let manager = try SessionManager(.client(codec), options: .init(clock: clock))
        let browser = Browser(manager)
        for pair in CookieHeader.parse(try await manager.cookieHeader(data: ["count": 1])) {
            browser.setCookie(pair.name, pair.value)
        }
        #expect(try await browser.count() == 2)

        // Put an entry in the session that is well framed but does not decode (a string holding
        // invalid UTF-8), sealed with the session's own key as only a key holder could.
        let serializer = MessagePackSerializer()
        let opened = try #require(try codec.readPayload(browser.cookies, now: clock.now()))
        var record = try #require(try serializer.entries(of: EncodedValue(payload: opened.payload)))
        let poison = EncodedValue(tag: MessagePackSerializer.tag, bytes: [0xA2, 0xC3, 0x28][...])
        var data = try dataEntries(browser, codec).map { (key: $0.key, value: SplicedValue.encoded($0.value)) }
        data.append(("poison", .encoded(poison)))
        record.removeAll { $0.key == "data" }
        let fields: [(key: String, value: SplicedValue)] = record.map { ($0.key, .encoded($0.value)) }
        let payload = try serializer.serialize(.dictionary(fields + [("data", .dictionary(data))]))
        browser.setCookie("session", try codec.seal(payload: payload, expires: opened.expires))

        // Requests that do not use it work, and hand it on unchanged.
        #expect(try await browser.count() == 3)
        #expect(try await browser.count() == 4)
        let after = try dataEntries(browser, codec)
        #expect(after.first { $0.key == "poison" }?.value.bytes.elementsEqual(poison.bytes) == true)
        #expect(try serializer.decode(#require(after.first { $0.key == "count" }).value) == 4)

        // A read-only request writes nothing.
        try await browser.request { session in _ = try await session.get(Int.self, "count") }
        #expect(browser.lastSetCookies.isEmpty)

        // The request that reads it gets a typed error; the session stays usable.
        await #expect(throws: SessionError.self) {
            try await browser.request { session in try await session.value(forKey: "poison") }
        }
        await #expect(throws: SessionError.self) {
            try await browser.request { session in try await session.data() }
        }
        #expect(try await browser.count() == 5)
        // Removing it (the way out of such a value) needs no decoding of the rest.
        try await browser.request { session in try await session.setValue(nil, forKey: "poison") }
        #expect(try dataEntries(browser, codec).map(\.key) == ["count"])
    }

    @Test func aCookieInAnotherFormatIsReadWholeAndRewrittenInTheConfiguredOne() async throws {
        let keys = KeyRing(id: 1, key: WebFixtures.key1)
        let jsonCodec = try CookieCodec(serializer: JSONSerializer(), protection: .encrypted(Encryption(keys: keys)))
        let binaryCodec = try CookieCodec(
            serializer: .binary, reading: [JSONSerializer()], protection: .encrypted(Encryption(keys: keys)))
        let old = try SessionManager(.client(jsonCodec), options: .init(clock: clock))
        let browser = Browser(old)
        #expect(try await browser.count() == 1)
        let new = Browser(try SessionManager(.client(binaryCodec), options: .init(clock: clock)))
        for cookie in browser.cookies { new.setCookie(cookie.name, cookie.value) }
        #expect(try await new.count() == 2)
        let opened = try #require(try binaryCodec.readPayload(new.cookies, now: clock.now()))
        #expect(opened.payload.first == MessagePackSerializer.tag)
        #expect(try await new.count() == 3)
    }

    @Test func mergingAndEqualityTreatEncodedAndDecodedValuesAlike() async throws {
        let codec = try WebFixtures.codec()
        let manager = try SessionManager(.client(codec), options: .init(clock: clock))
        let browser = Browser(manager)
        for pair in CookieHeader.parse(try await manager.cookieHeader(data: ["a": 1, "b": ["x", "y"], "c": "z"])) {
            browser.setCookie(pair.name, pair.value)
        }
        // Setting a key to the value it already has is no change: no cookie is written.
        try await browser.request { session in try await session.setValue(["x", "y"], forKey: "b") }
        #expect(browser.lastSetCookies.isEmpty)
        // A real change is written, and every other key survives it.
        try await browser.request { session in try await session.setValue("w", forKey: "c") }
        #expect(!browser.lastSetCookies.isEmpty)
        let data = try await browser.request { session in try await session.data() }.result
        #expect(data == ["a": 1, "b": ["x", "y"], "c": "w"])
        // update(_:) sees every entry decoded.
        let keys = try await browser.request { session in try await session.update { $0.keys } }.result
        #expect(keys == ["a", "b", "c"])
    }
}
