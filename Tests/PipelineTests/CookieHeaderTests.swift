import Serializers
import Testing

@testable import SessionPipeline

/// The `Cookie` header a browser sends back after a response's `Set-Cookie` headers.
struct CookieHeaderTests {
    static let attributes = CookieAttributes()

    @Test func theHeaderJoinsEachNameAndValueAndLeavesOutDeletionsAndAttributes() {
        let long = String(repeating: "v", count: 3000)
        let cookies = [
            SetCookie(name: "session", value: long, attributes: Self.attributes, maxAge: 600, expires: nil),
            SetCookie.deletion(of: "session.1", attributes: Self.attributes),
            SetCookie(name: "session.2", value: "two", attributes: Self.attributes, maxAge: nil, expires: nil),
        ]
        let header = SessionManager.cookieHeader(from: cookies)
        #expect(header == "session=\(long); session.2=two")
        #expect(CookieHeader.parse(header).map(\.value) == [long, "two"])
    }

    @Test func noCookiesOrOnlyDeletionsMakeAnEmptyHeader() {
        #expect(SessionManager.cookieHeader(from: []) == "")
        #expect(
            SessionManager.cookieHeader(from: [SetCookie.deletion(of: "session", attributes: Self.attributes)]) == "")
    }

    @Test func aCookieWithAnEmptyValueIsSentAsNameAndEquals() {
        let cookie = SetCookie(name: "empty", value: "", attributes: Self.attributes, maxAge: 60, expires: nil)
        #expect(SessionManager.cookieHeader(from: [cookie]) == "empty=")
    }

    @Test func maxAgeIsWrittenInDecimalForEveryMagnitude() {
        let template = CookieAttributes.Template(CookieAttributes())
        for maxAge in [0, 7, 10, 99, 1800, 1_209_600, Int(Int32.max), Int.max, -1, -3600, Int.min] {
            let cookie = SetCookie(
                name: "n", value: "v", attributes: template.rendered(maxAge: maxAge, expires: nil))
            #expect(cookie.headerValue == "n=v; Path=/; Max-Age=\(maxAge); Secure; HttpOnly; SameSite=Lax")
        }
        let session = SetCookie(
            name: "n", value: "v", attributes: template.rendered(maxAge: nil, expires: 5))
        #expect(session.headerValue == "n=v; Path=/; Secure; HttpOnly; SameSite=Lax")
    }

    // MARK: Reading a request's cookies in place

    static let now = UnixTime(seconds: 1_700_000_000)

    static func codec(maximumChunks: Int = 8) throws -> CookieCodec {
        try CookieCodec(
            serializer: .binary, compression: nil,
            protection: .encrypted(Encryption(keys: KeyRing(id: 1, key: SecretKey.random()))),
            configuration: CookieCodec.Configuration(maximumChunks: maximumChunks, maximumHeaderBytes: 64 * 1024))
    }

    /// A session value of `bytes` incompressible characters.
    static func value(bytes: Int) -> SessionValue {
        var generator = SystemRandomNumberGenerator()
        let text = String(
            (0..<bytes).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &generator))) })
        return .dictionary(["text": .string(text)])
    }

    @Test(arguments: [100, 9000])
    func theHeaderAndItsPairsReadTheSameSessionAmongOtherCookies(bytes: Int) throws {
        let codec = try Self.codec()
        let value = Self.value(bytes: bytes)
        let cookies = try codec.setCookies(for: value, expires: nil, now: Self.now, previousChunks: 0)
        #expect((cookies.count > 1) == (bytes > 4000))
        // Other cookies before, between and after, and the chunks in reverse order.
        let pairs = cookies.reversed().map { "\($0.name)=\($0.value)" }
        let header = (["theme=dark"] + pairs.flatMap { [$0, "tracker=\"x y\""] } + ["last="]).joined(separator: "; ")
        #expect(try codec.read(cookieHeaders: [header], now: Self.now)?.value == value)
        #expect(try codec.read(CookieHeader.parse(header), now: Self.now)?.value == value)
        #expect(
            try codec.readPayload(cookieHeaders: [header], now: Self.now)?.payload == codec.serializer.serialize(value))
        #expect(codec.presentChunks(in: CookieHeader.parse(header)) == cookies.count)
        #expect(try codec.sealedText(in: CookieHeader.parse(header))?.chunks == cookies.count)
    }

    @Test func cookiesSplitOverSeveralHeadersAreReadAsOneHeader() throws {
        let codec = try Self.codec()
        let value = Self.value(bytes: 9000)
        let pairs = try codec.setCookies(for: value, expires: nil, now: Self.now, previousChunks: 0)
            .map { "\($0.name)=\($0.value)" }
        #expect(pairs.count > 2)
        // HTTP/2 may send each cookie in a header of its own.
        #expect(try codec.read(cookieHeaders: pairs, now: Self.now)?.value == value)
        #expect(try codec.read(cookieHeaders: ["a=1", pairs.joined(separator: "; ")], now: Self.now)?.value == value)
    }

    @Test func theFirstCookieOfANameIsTheOneRead() throws {
        let codec = try Self.codec()
        let one = try codec.setCookies(for: ["n": 1], expires: nil, now: Self.now, previousChunks: 0)[0].value
        let two = try codec.setCookies(for: ["n": 2], expires: nil, now: Self.now, previousChunks: 0)[0].value
        #expect(try codec.read(cookieHeaders: ["session=\(one); session=\(two)"], now: Self.now)?.value == ["n": 1])
        #expect(try codec.read(cookieHeaders: ["sessionx=\(two); session=\(one)"], now: Self.now)?.value == ["n": 1])
    }

    @Test func noSessionCookieIsNoSessionAndBrokenChunkCountsAreMalformed() throws {
        let codec = try Self.codec()
        #expect(try codec.read(cookieHeaders: [], now: Self.now) == nil)
        #expect(try codec.read(cookieHeaders: [""], now: Self.now) == nil)
        #expect(try codec.read(cookieHeaders: ["other=1; session_1=AAAA"], now: Self.now) == nil)
        for bad in ["1.AAAA", "9.AAAA", "+2.AAAA", "02.AAAA", "x.AAAA", ".AAAA", "2.AAAA", "2\u{e9}.AAAA"] {
            let error = #expect(throws: SessionError.self) {
                try codec.read(cookieHeaders: ["session=\(bad)"], now: Self.now)
            }
            #expect(error?.code == .malformed, "\(bad)")
        }
    }

    @Test func chunksBeyondTheHeaderBudgetAreTooLarge() throws {
        let codec = try Self.codec()
        let small = try CookieCodec(
            serializer: .binary, compression: nil, protection: codec.protection,
            configuration: CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 6000))
        let header = try codec.setCookies(for: Self.value(bytes: 9000), expires: nil, now: Self.now, previousChunks: 0)
            .map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
        #expect(try codec.read(cookieHeaders: [header], now: Self.now) != nil)
        let error = #expect(throws: SessionError.self) { try small.read(cookieHeaders: [header], now: Self.now) }
        #expect(error?.code == .tooLarge)
    }

    @Test func pairsBeyondTheParsersLimitAreStillRead() throws {
        let codec = try Self.codec()
        let sealed = try codec.setCookies(for: ["n": 1], expires: nil, now: Self.now, previousChunks: 0)[0].value
        let pairs = (0..<300).map { (name: "other\($0)", value: "x") } + [(name: "session", value: sealed)]
        #expect(try codec.read(pairs, now: Self.now)?.value == ["n": 1])
    }

    @Test func aManagerReadsASessionSplitOverSeveralCookieHeaders() async throws {
        let manager = try SessionManager(.client(try Self.codec()))
        let text = try #require(Self.value(bytes: 9000).dictionaryValue?["text"])
        let session = RequestSession()
        session.attach(to: manager, cookieHeaders: [])
        try await session.update { $0 = ["text": text] }
        let lines = try await session.commit().map { "\($0.name)=\($0.value)" }
        #expect(lines.count > 2)
        // Each cookie on a header line of its own, as HTTP/2 may send them, among others.
        let next = RequestSession()
        next.attach(to: manager, cookieHeaders: ["theme=dark"] + lines.reversed())
        #expect(try await next.value(forKey: "text") == text)
        #expect(next.rejection == nil)
    }
}
