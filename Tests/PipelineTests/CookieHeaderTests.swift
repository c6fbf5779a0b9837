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
}
