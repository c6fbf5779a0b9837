/// Helpers for an application's own tests: start a request with a given session, and read the
/// session a response set.
///
/// ```swift
/// let cookie = try await sessions.cookieHeader(data: ["cart": ["tea"]], user: "alice")
/// // send a request with "Cookie: \(cookie)", then:
/// let after = try await sessions.snapshot(setCookieHeaders: response.headers(named: "Set-Cookie"))
/// #expect(after?.data["cart"] == ["tea", "milk"])
/// ```
///
/// They go through the same code as real requests: in server mode the session is written to the
/// store and the header carries its id; in client mode the header carries the sealed cookies.
extension SessionManager {
    /// What a session holds, as a test sees it.
    public struct Snapshot: Sendable, Equatable {
        /// The application's values.
        public var data: SessionDictionary
        /// The flash values not read yet.
        public var flash: SessionDictionary
        /// The user, if logged in.
        public var user: String?
        /// When the session began.
        public var created: UnixTime
        /// Its deadline.
        public var expires: UnixTime?
    }

    /// A `Cookie` header value carrying a new session with `data`, `flash` values and, when given,
    /// logged in as `user`.
    public func cookieHeader(
        data: SessionDictionary,
        flash: SessionDictionary = SessionDictionary(),
        user: String? = nil
    ) async throws -> String {
        let session = RequestSession()
        session.attach(to: self, cookieHeaders: [])
        if let user {
            try await session.logIn(user: user)
        }
        try await session.update { $0 = data }
        for (key, value) in flash {
            try await session.setFlashValue(value, forKey: key)
        }
        return Self.cookieHeader(from: try await session.commit())
    }

    /// The `Cookie` header value a browser would send after receiving `cookies` (deletions left
    /// out).
    public static func cookieHeader(from cookies: [SetCookie]) -> String {
        // Each `name=value` is the start of its header value: they are copied into one buffer of
        // the header's final size (no array of pairs, no generic join).
        var length = 0
        for cookie in cookies where !cookie.isDeletion {
            length += (length == 0 ? 0 : 2) + cookie.name.utf8.count + 1 + cookie.valueLength
        }
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { header in
            var end = 0
            for cookie in cookies where !cookie.isDeletion {
                if end > 0 {
                    header[end] = UInt8(ascii: ";")
                    header[end + 1] = UInt8(ascii: " ")
                    end += 2
                }
                var value = cookie.headerValue
                let count = cookie.name.utf8.count + 1 + cookie.valueLength
                value.withUTF8 { value in
                    end += UnsafeMutableBufferPointer(rebasing: header[end...])
                        .initialize(fromContentsOf: UnsafeBufferPointer(rebasing: value[..<count]))
                }
            }
            return end
        }
    }

    /// The `Cookie` header value a browser would send after receiving these `Set-Cookie` header
    /// values (deletions — an empty value or `Max-Age=0` — left out).
    public static func cookieHeader(fromSetCookieHeaders headers: [String]) -> String {
        var pairs: [String] = []
        for header in headers {
            let fields = header.split(separator: ";", omittingEmptySubsequences: false)
            guard let pair = fields.first, let equals = pair.firstIndex(of: "="),
                pair.index(after: equals) != pair.endIndex
            else { continue }
            let isDeletion = fields.dropFirst().contains { $0.trimmingSpaces.lowercased() == "max-age=0" }
            if !isDeletion { pairs.append(String(pair).trimmingSpaces) }
        }
        return pairs.joined(separator: "; ")
    }

    /// The session a `Cookie` header carries; `nil` when it carries none.
    ///
    /// - Throws: why the cookie was rejected (tampered, expired, revoked, …), if it was.
    public func snapshot(cookieHeader: String) async throws -> Snapshot? {
        let session = RequestSession()
        session.attach(to: self, cookieHeaders: [cookieHeader])
        let exists = try await session.exists()
        if let rejection = session.rejection { throw rejection }
        guard exists else { return nil }
        return Snapshot(
            data: try await session.data(),
            flash: try await session.flashValues(),
            user: try await session.user(),
            created: try await session.created(),
            expires: try await session.expires()
        )
    }

    /// The session a response's `Set-Cookie` header values carry; `nil` when they carry none.
    public func snapshot(setCookieHeaders: [String]) async throws -> Snapshot? {
        try await snapshot(cookieHeader: Self.cookieHeader(fromSetCookieHeaders: setCookieHeaders))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
