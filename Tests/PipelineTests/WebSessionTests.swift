import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

/// The session manager as a browser sees it, in every mode, without any web framework.
struct WebSessionTests {
    enum ModeUnderTest: String, CaseIterable, Sendable {
        case client, server, hybrid
    }

    static func manager(
        _ mode: ModeUnderTest,
        clock: ManualClock,
        options: SessionManager.Options = SessionManager.Options(),
        codec: CookieCodec? = nil
    ) throws -> SessionManager {
        var options = options
        options.clock = clock
        let codec = try codec ?? WebFixtures.codec()
        switch mode {
        case .client: return try SessionManager(.client(codec), options: options)
        case .server: return try SessionManager(.server(try WebFixtures.store(clock)), options: options)
        case .hybrid: return try SessionManager(.hybrid(codec, try WebFixtures.store(clock)), options: options)
        }
    }

    // MARK: Basics

    @Test(arguments: ModeUnderTest.allCases)
    func aCounterCountsInEveryMode(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        #expect(try await browser.count() == 1)
        #expect(try await browser.count() == 2)
        #expect(try await browser.count() == 3)
        #expect(browser.cookies.map(\.name) == ["session"])
    }

    @Test(arguments: ModeUnderTest.allCases)
    func anUntouchedSessionCostsNothing(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        _ = try await browser.count()
        let (_, session) = try await browser.request { _ in () }
        #expect(!session.isLoaded)
        #expect(browser.lastSetCookies.isEmpty)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func readingWithoutChangingWritesNothingAndAnEmptySessionSetsNoCookie(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        // A visitor whose session stays empty gets no cookie.
        try await browser.request { session in _ = try await session.get(Int.self, "count") }
        #expect(browser.lastSetCookies.isEmpty)
        _ = try await browser.count()
        try await browser.request { session in _ = try await session.get(Int.self, "count") }
        #expect(browser.lastSetCookies.isEmpty)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func aSessionIsSavedExactlyWhenOneOfItsFieldsDiffersFromTheLoadedOne(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        try await browser.request { session in
            try await session.set(1, for: "count")
            try await session.set("blue", for: "colour")
        }
        #expect(!browser.lastSetCookies.isEmpty)

        // The same values again, or a change undone within the request: the session as written
        // equals the session as loaded, field by field, so nothing is sent.
        try await browser.request { session in
            try await session.set(1, for: "count")
            try await session.set("red", for: "colour")
            try await session.set("blue", for: "colour")
            try await session.flash("gone", for: "notice")
            _ = try await session.takeFlash(String.self, "notice")
        }
        #expect(browser.lastSetCookies.isEmpty)

        // A change to any one field is a change, and leaves the session as loaded untouched
        // (the next request still sees the values before it where the request did not write).
        let changes: [(String, @Sendable (RequestSession) async throws -> Void)] = [
            ("data", { try await $0.set(2, for: "count") }),
            ("a removed key", { _ = try await $0.removeValue(forKey: "colour") }),
            ("flash", { try await $0.flash("hello", for: "notice") }),
            ("a login (which also renews the id)", { try await $0.logIn(user: "alice") }),
            ("CSRF secret", { _ = try await $0.csrfToken() }),
        ]
        for (field, change) in changes {
            try await browser.request { try await change($0) }
            #expect(!browser.lastSetCookies.isEmpty, "a change to \(field) is saved")
        }
        let (state, _) = try await browser.request { session in
            (
                try await session.get(Int.self, "count"), try await session.get(String.self, "colour"),
                try await session.user()
            )
        }
        #expect(state.0 == 2 && state.1 == nil && state.2 == "alice")
    }

    @Test func cookiesCarryTheSafeDefaultAttributes() async throws {
        let browser = Browser(try Self.manager(.client, clock: ManualClock()))
        _ = try await browser.count()
        let header = try #require(browser.lastSetCookies.first).headerValue
        #expect(header.hasPrefix("session="))
        #expect(header.hasSuffix("; Path=/; Max-Age=1800; Secure; HttpOnly; SameSite=Lax"))
        // The description leaves the value out, so a cookie can be logged.
        let description = try #require(browser.lastSetCookies.first).description
        #expect(!description.contains(String(header.dropFirst(8).prefix(40))))
        #expect(description.hasSuffix("; Path=/; Max-Age=1800; Secure; HttpOnly; SameSite=Lax"))
    }

    @Test func everyCombinationOfAttributesIsWrittenInOneOrder() throws {
        let now = UnixTime(seconds: 1_700_000_000)
        var checked = 0
        for path in ["/", "/app"] {
            for domain in [nil, "example.com"] {
                for (secure, httpOnly) in [(true, true), (true, false), (false, true), (false, false)] {
                    for sameSite: CookieAttributes.SameSite? in [nil, .lax, .strict, .some(.none)]
                    where secure || sameSite != .some(.none) {
                        for includeExpires in [false, true] {
                            let attributes = CookieAttributes(
                                path: path, domain: domain, secure: secure, httpOnly: httpOnly, sameSite: sameSite,
                                includeExpires: includeExpires)
                            let codec = try WebFixtures.codec(
                                configuration: CookieCodec.Configuration(attributes: attributes))
                            func expected(maxAge: Int, expires: String?) -> String {
                                var text = "; Path=" + path
                                if let domain { text += "; Domain=" + domain }
                                text += "; Max-Age=\(maxAge)"
                                if let expires { text += "; Expires=" + expires }
                                if secure { text += "; Secure" }
                                if httpOnly { text += "; HttpOnly" }
                                if let sameSite { text += "; SameSite=" + sameSite.rawValue }
                                return text
                            }
                            let cookies = try codec.setCookies(
                                for: ["a": 1], expires: now + .seconds(90), now: now, previousChunks: 0)
                            let cookie = try #require(cookies.first)
                            let expires = includeExpires ? "Tue, 14 Nov 2023 22:14:50 GMT" : nil
                            #expect(
                                cookie.headerValue == "session=" + cookie.value + expected(maxAge: 90, expires: expires)
                            )
                            // A deletion has the same attributes, Max-Age=0 and always an Expires in 1970.
                            let deletion = try #require(codec.deletions(previousChunks: 1).first)
                            #expect(
                                deletion.headerValue
                                    == "session=" + expected(maxAge: 0, expires: "Thu, 01 Jan 1970 00:00:00 GMT"))
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == 112)
    }

    @Test func hostPrefixRulesAreEnforced() throws {
        var attributes = CookieAttributes()
        attributes.domain = "example.com"
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(name: "__Host-session", attributes: attributes).validate()
        }
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(name: "__Host-session", attributes: CookieAttributes(secure: false))
                .validate()
        }
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(name: "__Host-session", attributes: CookieAttributes(path: "/app")).validate()
        }
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(name: "__Secure-s", attributes: CookieAttributes(secure: false)).validate()
        }
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(
                attributes: CookieAttributes(secure: false, sameSite: CookieAttributes.SameSite.none)
            )
            .validate()
        }
        #expect(throws: SessionError.self) { try CookieCodec.Configuration(name: "bad name").validate() }
        #expect(throws: SessionError.self) {
            try CookieCodec.Configuration(attributes: CookieAttributes(path: "/; Domain=evil")).validate()
        }
        try CookieCodec.Configuration(name: "__Host-session").validate()
    }

    @Test func httpDatesAreIMFFixdates() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(4_102_444_799) == "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    @Test func cookieHeadersAreParsedLeniently() {
        let pairs = CookieHeader.parse(" a=1;b = 2 ; junk; c=\"quoted\";;d=")
        #expect(pairs.map(\.name) == ["a", "b", "c", "d"])
        #expect(pairs.map(\.value) == ["1", "2", "quoted", ""])
        let long = String(repeating: "x", count: 9000)
        let tricky = CookieHeader.parse("e=b=c; f=\(long);g=é;=h; i\t= \tj\t")
        #expect(tricky.map(\.name) == ["e", "f", "g", "i"])
        #expect(tricky.map(\.value) == ["b=c", long, "é", "j"])
        // A non-contiguous string view takes the copying path to the same result.
        #expect(CookieHeader.parse(Substring("a=1; b=2")).map(\.value) == ["1", "2"])
        let many = (0..<1000).map { "k\($0)=v" }.joined(separator: "; ")
        #expect(CookieHeader.parse(many).count == CookieHeader.maximumCookies)
    }

    // MARK: Bad cookies

    @Test(arguments: ModeUnderTest.allCases)
    func aTamperedCookieIsANewSessionNeverAnError(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        _ = try await browser.count()
        _ = try await browser.count()
        let original = try #require(browser.cookies.first).value
        var characters = Array(original)
        let position = characters.count / 2
        characters[position] = characters[position] == "A" ? "B" : "A"
        browser.setCookie("session", String(characters))
        let (count, session) = try await browser.request { session in
            let count = (try await session.get(Int.self, "count") ?? 0) + 1
            try await session.set(count, for: "count")
            return count
        }
        #expect(count == 1)
        let rejection = try #require(session.rejection)
        let expected: [SessionError.Code] =
            mode == .server ? [.expired, .malformed] : [.authenticationFailed, .malformed, .unknownKeyID]
        #expect(expected.contains(rejection.code))
        #expect(!rejection.message.contains(original))
        #expect(try await browser.count() == 2)
    }

    @Test(arguments: [
        "../../etc/passwd", "", "%00", String(repeating: "A", count: 20_000), "2.abc", "99.x", "0.", "-1.x",
        "session", "\u{1F36A}",
    ])
    func hostileCookieValuesAreRejectedCleanly(_ value: String) async throws {
        for mode in ModeUnderTest.allCases {
            let browser = Browser(try Self.manager(mode, clock: ManualClock()))
            browser.setCookie("session", value)
            browser.setCookie("session_1", value)
            let (count, session) = try await browser.request { session in
                let count = (try await session.get(Int.self, "count") ?? 0) + 1
                try await session.set(count, for: "count")
                return count
            }
            #expect(count == 1, "mode \(mode)")
            #expect(session.rejection != nil, "mode \(mode)")
            #expect(try await browser.count() == 2, "mode \(mode)")
        }
    }

    @Test func chunksFromAnotherSessionDoNotCombine() async throws {
        let clock = ManualClock()
        let manager = try Self.manager(.client, clock: clock)
        var generator = SeededGenerator.fromEnvironment()
        print("chunk mixing: seed \(generator.seed)")
        let first = Browser(manager)
        let second = Browser(manager)
        for browser in [first, second] {
            let text = WebFixtures.incompressible(9000, using: &generator)
            try await browser.request { try await $0.set(text, for: "blob") }
            #expect(browser.cookies.count == 3)
        }
        // The second browser's first chunk with the first browser's other chunks.
        let mixed = Browser(manager)
        for (name, value) in first.cookies { mixed.setCookie(name, value) }
        mixed.setCookie("session", try #require(second.cookies.first { $0.name == "session" }).value)
        let (blob, session) = try await mixed.request { try await $0.get(String.self, "blob") }
        #expect(blob == nil)
        #expect(session.rejection?.code == .authenticationFailed)
    }

    // MARK: Chunks

    /// Room for a 20 KB session: 8 cookies, 32 KiB of `Cookie` header.
    static let roomy = CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 32 * 1024)

    static func randomBytes(_ count: Int, using generator: inout SeededGenerator) -> SessionValue {
        .bytes((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }

    @Test func aTwentyKilobyteSessionIsChunkedAndCleanedWhenItShrinks() async throws {
        let codec = try WebFixtures.codec(configuration: Self.roomy)
        let browser = Browser(try Self.manager(.client, clock: ManualClock(), codec: codec))
        var generator = SeededGenerator.fromEnvironment()
        print("20 KB session: seed \(generator.seed)")
        let blob = Self.randomBytes(20_000, using: &generator)
        try await browser.request { try await $0.setValue(blob, forKey: "blob") }
        let set = browser.lastSetCookies
        // 20,000 random bytes seal to ~26,700 base64url characters: 7 cookies of at most 4096 bytes.
        #expect(set.count == 7)
        #expect(set.allSatisfy { $0.headerValue.utf8.count <= 4096 })
        #expect(browser.cookies.map(\.name) == ["session"] + (1..<7).map { "session_\($0)" })
        let (read, _) = try await browser.request { try await $0.value(forKey: "blob") }
        #expect(read == blob)

        try await browser.request { try await $0.set("small", for: "blob") }
        #expect(browser.lastSetCookies.filter(\.isDeletion).map(\.name) == (1..<7).map { "session_\($0)" })
        #expect(browser.cookies.map(\.name) == ["session"])
        let (small, _) = try await browser.request { try await $0.get(String.self, "blob") }
        #expect(small == "small")
    }

    /// Stale chunks are found by name: `NAME` and `NAME_1` … below the configured limit, written
    /// as ``CookieCodec/chunkName(_:)`` writes them, and nothing that merely looks like one.
    @Test func presentChunksCountsOnlyThisSessionsChunkNames() throws {
        let codec = try WebFixtures.codec(configuration: Self.roomy)
        let limit = Self.roomy.maximumChunks
        func count(_ names: [String]) -> Int { codec.presentChunks(in: names.map { ($0, "x") }) }
        #expect(count([]) == 0)
        #expect(count(["session"]) == 1)
        #expect(count(["session_3"]) == 4)
        #expect(count(["session_2", "other", "session"]) == 3)
        for index in 0..<limit {
            #expect(count([codec.chunkName(index)]) == index + 1, "chunk \(index)")
        }
        let lookalikes = [
            "sessio", "sessions", "session_", "session_0", "session_01", "session_1x", "session_x",
            "session-1", "session__1", "Session_1", "xsession_1", "session_\(limit)", "session_100", "session_-1",
        ]
        for name in lookalikes {
            #expect(count([name]) == 0, "\(name)")
        }
    }

    @Test func chunkingHoldsForEverySize() async throws {
        var generator = SeededGenerator.fromEnvironment()
        print("chunk sizes: seed \(generator.seed)")
        let codec = try WebFixtures.codec(configuration: Self.roomy)
        let browser = Browser(try Self.manager(.client, clock: ManualClock(), codec: codec))
        for _ in 0..<60 {
            let size = Int(generator.next() % 22_000)
            let blob = Self.randomBytes(size, using: &generator)
            try await browser.request { try await $0.setValue(blob, forKey: "blob") }
            #expect(browser.lastSetCookies.allSatisfy { $0.headerValue.utf8.count <= 4096 }, "size \(size)")
            #expect(browser.cookieHeader.utf8.count <= 32 * 1024, "size \(size)")
            let (read, session) = try await browser.request { try await $0.value(forKey: "blob") }
            #expect(read == blob, "size \(size)")
            #expect(session.rejection == nil)
        }
    }

    @Test func beyondTheChunkLimitClientModeFailsClearly() async throws {
        let browser = Browser(try Self.manager(.client, clock: ManualClock()))
        var generator = SeededGenerator.fromEnvironment()
        print("too large: seed \(generator.seed)")
        let text = WebFixtures.incompressible(30_000, using: &generator)
        let error = await #expect(throws: SessionError.self) {
            try await browser.request { try await $0.set(text, for: "blob") }
        }
        #expect(error?.code == .tooLarge)
        // save() lets the handler see it and answer.
        let session = RequestSession()
        session.attach(to: browser.manager, cookieHeaders: [])
        try await session.set(text, for: "blob")
        await #expect(throws: SessionError.self) { try await session.save() }
    }

    @Test func hybridModeMovesALargeSessionToTheStoreAndBack() async throws {
        let clock = ManualClock()
        let store = try WebFixtures.store(clock)
        let manager = try SessionManager(.hybrid(try WebFixtures.codec(), store), options: .init(clock: clock))
        let browser = Browser(manager)
        var generator = SeededGenerator.fromEnvironment()
        print("hybrid: seed \(generator.seed)")
        let text = WebFixtures.incompressible(30_000, using: &generator)
        try await browser.request { try await $0.set(text, for: "blob") }
        #expect(browser.cookies.count == 1)
        #expect(try #require(browser.cookies.first).value.utf8.count < 300)
        #expect(try await store.keys().collect().count == 1)
        _ = try await browser.count()
        let (read, _) = try await browser.request { try await $0.get(String.self, "blob") }
        #expect(read == text)
        try await browser.request { try await $0.removeValue(forKey: "blob") }
        #expect(try await store.keys().collect().isEmpty)
        #expect(try await browser.count() == 2)
    }

    // MARK: Keys

    @Test(arguments: [false, true])
    func rotatingKeysKeepsSessionsAndResealsLazily(_ signed: Bool) async throws {
        let clock = ManualClock()
        let old = KeyRing(id: 1, key: WebFixtures.key1)
        let rotated = try KeyRing(
            primary: .init(id: 2, key: WebFixtures.key2), older: [.init(id: 1, key: WebFixtures.key1)])
        let before = Browser(
            try Self.manager(.client, clock: clock, codec: try WebFixtures.codec(keys: old, signed: signed)))
        try await before.request { try await $0.set("alice", for: "user") }

        let after = Browser(
            try Self.manager(.client, clock: clock, codec: try WebFixtures.codec(keys: rotated, signed: signed)))
        after.setCookie("session", try #require(before.cookies.first).value)
        let (user, _) = try await after.request { try await $0.get(String.self, "user") }
        #expect(user == "alice")
        #expect(after.lastSetCookies.count == 1, "a read of an old-key cookie re-seals it")

        let onlyNew = Browser(
            try Self.manager(
                .client, clock: clock,
                codec: try WebFixtures.codec(keys: KeyRing(id: 2, key: WebFixtures.key2), signed: signed)))
        onlyNew.setCookie("session", try #require(after.cookies.first).value)
        let (still, session) = try await onlyNew.request { try await $0.get(String.self, "user") }
        #expect(still == "alice")
        #expect(session.rejection == nil)
    }

    // MARK: Expiry

    @Test(arguments: ModeUnderTest.allCases)
    func idleSessionsExpire(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let options = SessionManager.Options(expiry: .init(idle: .seconds(600), absolute: nil))
        let browser = Browser(try Self.manager(mode, clock: clock, options: options))
        _ = try await browser.count()
        clock.advance(by: .seconds(599))
        #expect(try await browser.count() == 2)
        clock.advance(by: .seconds(599))
        #expect(try await browser.count() == 3)
        clock.advance(by: .seconds(600))
        let (count, session) = try await browser.request { try await $0.get(Int.self, "count") }
        #expect(count == nil)
        #expect(session.rejection?.code == .expired)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func readingExtendsTheIdleDeadlineOncePerRefreshInterval(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let options = SessionManager.Options(
            expiry: .init(idle: .seconds(600), absolute: nil, refreshInterval: .seconds(60)))
        let browser = Browser(try Self.manager(mode, clock: clock, options: options))
        _ = try await browser.count()
        clock.advance(by: .seconds(30))
        try await browser.request { _ = try await $0.get(Int.self, "count") }
        #expect(browser.lastSetCookies.isEmpty, "within the refresh interval nothing is written")
        clock.advance(by: .seconds(40))
        try await browser.request { _ = try await $0.get(Int.self, "count") }
        let refreshed = try #require(browser.lastSetCookies.first)
        #expect(refreshed.maxAge == 600)
        // Reads alone keep it alive past the first deadline.
        for _ in 0..<5 {
            clock.advance(by: .seconds(300))
            try await browser.request { _ = try await $0.get(Int.self, "count") }
        }
        let (count, _) = try await browser.request { try await $0.get(Int.self, "count") }
        #expect(count == 1)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func everyWriteRenewsTheCookiesMaxAge(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let browser = Browser(try Self.manager(mode, clock: clock))
        // Writes more often than the refresh interval, for longer than the idle limit: the
        // browser's cookie must keep up with the session's deadline, or it would expire first.
        for _ in 0..<100 {
            _ = try await browser.count()
            #expect(browser.lastSetCookies.map(\.maxAge) == [1800])
            clock.advance(by: .seconds(30))
        }
    }

    @Test(arguments: ModeUnderTest.allCases)
    func absoluteExpiryEndsEvenABusySession(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let options = SessionManager.Options(expiry: .init(idle: .seconds(600), absolute: .seconds(3600)))
        let browser = Browser(try Self.manager(mode, clock: clock, options: options))
        for expected in 1...12 {
            #expect(try await browser.count() == expected)
            clock.advance(by: .seconds(300))
        }
        // 3600 s after the start: over, however busy.
        let (count, session) = try await browser.request { try await $0.get(Int.self, "count") }
        #expect(count == nil)
        #expect(session.rejection?.code == .expired)
        #expect(browser.cookies.isEmpty, "the dead cookie is deleted")
    }

    // MARK: Regenerate, destroy, revoke

    @Test func serverModeLoginRegeneratesTheIdAndTheOldIdIsDead() async throws {
        let clock = ManualClock()
        let store = try WebFixtures.store(clock)
        let manager = try SessionManager(.server(store), options: .init(clock: clock))
        let browser = Browser(manager)
        _ = try await browser.count()
        let before = try #require(browser.cookies.first).value
        try await browser.request { try await $0.logIn(user: "alice") }
        let after = try #require(browser.cookies.first).value
        #expect(before != after)
        #expect(after.utf8.count == 43)
        #expect(try await store.load(SessionID(before)) == nil)
        let (user, _) = try await browser.request { try await $0.user() }
        #expect(user == "alice")
        #expect(try await browser.count() == 2, "data carries over a login")

        let stale = Browser(manager)
        stale.setCookie("session", before)
        let (count, session) = try await stale.request { try await $0.get(Int.self, "count") }
        #expect(count == nil)
        #expect(session.rejection?.code == .expired)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func destroyDeletesTheCookieAndTheData(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let browser = Browser(try Self.manager(mode, clock: clock))
        _ = try await browser.count()
        try await browser.request { try await $0.destroy() }
        #expect(browser.lastSetCookies.allSatisfy { $0.isDeletion })
        #expect(browser.lastSetCookies.first?.headerValue.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT") == true)
        #expect(browser.cookies.isEmpty)
        #expect(try await browser.count() == 1)
    }

    @Test func clientModeRevocationKillsOldCookies() async throws {
        let clock = ManualClock()
        let revocations = try WebFixtures.store(clock)
        let manager = try Self.manager(.client, clock: clock, options: .init(revocations: revocations))
        let browser = Browser(manager)
        _ = try await browser.count()
        let copy = try #require(browser.cookies.first).value
        try await browser.request { try await $0.logIn(user: "alice") }
        let stolen = Browser(manager)
        stolen.setCookie("session", copy)
        let (count, session) = try await stolen.request { try await $0.get(Int.self, "count") }
        #expect(count == nil)
        #expect(session.rejection?.message.contains("revoked") == true)
        // Without a revocation store the copy would still work: that is the documented limit.
        let lenient = Browser(try Self.manager(.client, clock: clock))
        _ = try await lenient.count()
        let lenientCopy = try #require(lenient.cookies.first).value
        try await lenient.request { try await $0.destroy() }
        let replay = Browser(lenient.manager)
        replay.setCookie("session", lenientCopy)
        #expect(try await replay.count() == 2)
    }

    @Test(arguments: ModeUnderTest.allCases)
    func revokingAllOfAUsersSessionsLogsOutEverywhere(_ mode: ModeUnderTest) async throws {
        let clock = ManualClock()
        let index = try WebFixtures.store(clock)
        let options = SessionManager.Options(revocations: try WebFixtures.store(clock), userIndex: index)
        let manager = try Self.manager(mode, clock: clock, options: options)
        let laptop = Browser(manager)
        let phone = Browser(manager)
        let other = Browser(manager)
        for (browser, user) in [(laptop, "alice"), (phone, "alice"), (other, "bob")] {
            try await browser.request { try await $0.logIn(user: user) }
        }
        #expect(try await manager.sessions(ofUser: "alice").count == 2)
        #expect(try await manager.sessions(ofUser: "bob").count == 1)
        #expect(try await manager.revokeAllSessions(ofUser: "alice") == 2)
        for browser in [laptop, phone] {
            let (user, _) = try await browser.request { try await $0.user() }
            #expect(user == nil)
        }
        let (bob, _) = try await other.request { try await $0.user() }
        #expect(bob == "bob")
        #expect(try await manager.sessions(ofUser: "alice").isEmpty)
        // Logging out removes a session from the index.
        try await other.request { try await $0.destroy() }
        #expect(try await manager.sessions(ofUser: "bob").isEmpty)
    }

    @Test func userNamesThatAreNotKeysAreEscaped() async throws {
        let clock = ManualClock()
        let index = try WebFixtures.store(clock)
        let manager = try Self.manager(.server, clock: clock, options: .init(userIndex: index))
        let browser = Browser(manager)
        try await browser.request { try await $0.logIn(user: "../../etc/passwd") }
        #expect(try await manager.sessions(ofUser: "../../etc/passwd").count == 1)
        let keys = try await index.keys().collect()
        #expect(keys.map(\.rawValue) == ["user:%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"])
    }

    @Test func clientModeRevokeAllNeedsARevocationStore() async throws {
        let clock = ManualClock()
        let manager = try Self.manager(.client, clock: clock, options: .init(userIndex: try WebFixtures.store(clock)))
        let error = await #expect(throws: SessionError.self) { try await manager.revokeAllSessions(ofUser: "alice") }
        #expect(error?.code == .unsupported)
    }

    // MARK: Flash and CSRF

    @Test(arguments: ModeUnderTest.allCases)
    func flashValuesLiveUntilReadOnce(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        try await browser.request { try await $0.flash(["saved"], for: "messages") }
        let (first, _) = try await browser.request { try await $0.takeFlash([String].self, "messages") }
        #expect(first == ["saved"])
        let (second, _) = try await browser.request { try await $0.takeFlash([String].self, "messages") }
        #expect(second == nil)
        #expect(browser.cookies.isEmpty, "the session held only the flash value, so it is gone")
    }

    @Test(arguments: ModeUnderTest.allCases)
    func csrfTokensAreMaskedAndBoundToTheSession(_ mode: ModeUnderTest) async throws {
        let browser = Browser(try Self.manager(mode, clock: ManualClock()))
        let (token, _) = try await browser.request { try await $0.csrfToken() }
        let (again, _) = try await browser.request { try await $0.csrfToken() }
        #expect(token != again, "every token is masked afresh")
        let (valid, _) = try await browser.request { session in
            (try await session.verifyCSRFToken(token), try await session.verifyCSRFToken(again))
        }
        #expect(valid == (true, true))

        var bytes = Array(token.utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let (forged, _) = try await browser.request { session in
            (
                try await session.verifyCSRFToken(String(decoding: bytes, as: UTF8.self)),
                try await session.verifyCSRFToken(""), try await session.verifyCSRFToken("not base64 !")
            )
        }
        #expect(forged == (false, false, false))

        let otherBrowser = Browser(browser.manager)
        let (elsewhere, _) = try await otherBrowser.request { try await $0.verifyCSRFToken(token) }
        #expect(!elsewhere, "a token of another session")

        try await browser.request { try await $0.logIn(user: "alice") }
        let (afterLogin, _) = try await browser.request { try await $0.verifyCSRFToken(token) }
        #expect(!afterLogin, "login rotates the secret")
    }

    // MARK: Concurrency

    @Test func concurrentRequestsChangingDifferentKeysAllSurvive() async throws {
        let clock = ManualClock()
        let store = try WebFixtures.store(clock)
        let manager = try SessionManager(.server(store), options: .init(clock: clock))
        let browser = Browser(manager)
        _ = try await browser.count()
        let header = browser.cookieHeader
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let session = RequestSession()
                    session.attach(to: manager, cookieHeaders: [header])
                    try await session.set(index, for: "key\(index)")
                    _ = try await session.commit()
                }
            }
            try await group.waitForAll()
        }
        let (data, _) = try await browser.request { try await $0.data() }
        #expect(data.count == 101)
        #expect((0..<100).allSatisfy { data["key\($0)"] == .int(Int64($0)) })
    }

    @Test func whenTwoRequestsChangeTheSameKeyTheLastSaveWins() async throws {
        let clock = ManualClock()
        let manager = try SessionManager(.server(try WebFixtures.store(clock)), options: .init(clock: clock))
        let browser = Browser(manager)
        try await browser.request { try await $0.set("start", for: "shared") }
        let header = browser.cookieHeader
        let first = RequestSession()
        let second = RequestSession()
        first.attach(to: manager, cookieHeaders: [header])
        second.attach(to: manager, cookieHeaders: [header])
        try await first.set("first", for: "shared")
        try await second.set("second", for: "shared")
        try await second.set(true, for: "onlySecond")
        try await first.removeValue(forKey: "missing")
        _ = try await second.commit()
        _ = try await first.commit()
        let (data, _) = try await browser.request { try await $0.data() }
        #expect(data["shared"] == "first", "the request that saved last wins the key both changed")
        #expect(data["onlySecond"] == true, "the key only the other one changed survives")
    }

    @Test func aSessionDestroyedElsewhereIsNotResurrected() async throws {
        let clock = ManualClock()
        let manager = try SessionManager(.server(try WebFixtures.store(clock)), options: .init(clock: clock))
        let browser = Browser(manager)
        _ = try await browser.count()
        let header = browser.cookieHeader
        let slow = RequestSession()
        slow.attach(to: manager, cookieHeaders: [header])
        try await slow.set("late", for: "write")
        try await browser.request { try await $0.destroy() }
        let cookies = try await slow.commit()
        #expect(cookies.allSatisfy { $0.isDeletion })
        browser.setCookie("session", String(header.dropFirst("session=".count)))
        let (data, _) = try await browser.request { try await $0.data() }
        #expect(data.isEmpty)
    }

    // MARK: Test helpers

    @Test(arguments: ModeUnderTest.allCases)
    func testHelpersStartARequestWithAGivenSession(_ mode: ModeUnderTest) async throws {
        let manager = try Self.manager(mode, clock: ManualClock())
        let header = try await manager.cookieHeader(data: ["count": 41], flash: ["notice": "hi"], user: "alice")
        let browser = Browser(manager)
        for pair in CookieHeader.parse(header) { browser.setCookie(pair.name, pair.value) }
        #expect(try await browser.count() == 42)
        let snapshot = try #require(try await manager.snapshot(cookieHeader: browser.cookieHeader))
        #expect(snapshot.data == ["count": 42])
        #expect(snapshot.flash == ["notice": "hi"])
        #expect(snapshot.user == "alice")
        if mode != .server {
            let fromResponse = try await manager.snapshot(setCookieHeaders: browser.lastSetCookies.map(\.headerValue))
            #expect(fromResponse?.data == ["count": 42])
        }
        #expect(try await manager.snapshot(cookieHeader: "") == nil)
        await #expect(throws: SessionError.self) { try await manager.snapshot(cookieHeader: "session=garbage") }
    }

    @Test func aRequestWithoutAManagerExplainsItself() async throws {
        let session = RequestSession()
        let error = await #expect(throws: SessionError.self) { try await session.get(Int.self, "count") }
        #expect(error?.message.contains("middleware") == true)
        #expect(try await session.commit().isEmpty)
    }
}

extension AnyKeySequence {
    func collect() async throws -> [SessionKey] {
        var keys: [SessionKey] = []
        for try await key in self { keys.append(key) }
        return keys
    }
}
