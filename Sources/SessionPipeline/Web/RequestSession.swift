import Synchronization

/// The session of one request: what a route handler reads and changes.
///
/// Nothing happens until the handler first touches the session: a request that never does costs
/// one small allocation, reads no cookie, opens no envelope and sets no cookie. The first access
/// loads the session (opening the cookie, or reading the store in server mode); ``commit()``, which
/// the framework adapter calls after the handler, writes it back only if something changed, it
/// was sealed under an older key, or its idle deadline is due to be extended.
///
/// A cookie that is tampered with, expired, revoked, sealed under an unknown key or otherwise
/// unreadable is never an error for the handler: the request simply has a new, empty session, and
/// ``rejection`` says why (the Hummingbird middleware logs it).
///
/// ```swift
/// let count = try await session.get(Int.self, "count") ?? 0
/// try await session.set(count + 1, for: "count")
///
/// try await session.logIn(user: "alice")          // new id, new CSRF secret, listed for alice
/// try await session.flash("Welcome back", for: "notice")
/// let token = try await session.csrfToken()       // for the next form
/// try await session.destroy()                      // log out
/// ```
///
/// Methods are `async` because the first access may read a store. The handle is safe to use from
/// several tasks of one request.
public final class RequestSession: Sendable {
    private struct State: Sendable {
        var manager: SessionManager?
        var cookieHeaders: [String] = []
        var loaded: LoadedSession?
        /// Cookies from an earlier ``RequestSession/save()`` in this request.
        var written: [SetCookie] = []
    }

    private let state = Locked(State())

    /// Creates a session handle that is not attached to any request yet; a framework adapter
    /// attaches it with ``attach(to:cookieHeaders:)``.
    public init() {}

    /// Attaches the handle to a manager and the request's `Cookie` header values. Framework
    /// adapters call this before the handler runs; the cookies are not read until the handler
    /// touches the session.
    public func attach(to manager: SessionManager, cookieHeaders: [String]) {
        state.withLock { state in
            state.manager = manager
            state.cookieHeaders = cookieHeaders
            state.loaded = nil
            state.written = []
        }
    }

    /// Runs `body` on the loaded session, loading it first if needed.
    private func withSession<R: Sendable>(_ body: (inout LoadedSession, SessionManager) throws -> R) async throws -> R {
        let (manager, headers, isLoaded) = state.withLock { ($0.manager, $0.cookieHeaders, $0.loaded != nil) }
        guard let manager else {
            throw SessionError(
                .invalidConfiguration,
                "this request's session is not attached to a SessionManager: is the session middleware installed?",
                layer: "RequestSession"
            )
        }
        if !isLoaded {
            var loaded: LoadedSession? = try await manager.load(cookieHeaders: headers)
            // Swapped in, not copied: a loaded session holds a few dozen references, each
            // retained by a copy and released again by the original's end.
            state.withLock { state in
                if state.loaded == nil { swap(&state.loaded, &loaded) }
            }
        }
        return try state.withLock { state in
            try body(&state.loaded!, manager)
        }
    }

    // MARK: Reading and writing

    /// Whether the handler has touched the session (and so it was loaded).
    public var isLoaded: Bool {
        state.withLock { $0.loaded != nil }
    }

    /// Why the request's session cookie was not used, if it carried one that was not: tampered,
    /// expired, revoked, sealed under an unknown key, or unreadable. `nil` before the session is
    /// loaded. The error never contains the cookie.
    public var rejection: SessionError? {
        state.withLock { $0.loaded?.rejection }
    }

    /// Whether the request came with a live session (as opposed to starting a new one).
    public func exists() async throws -> Bool {
        try await withSession { loaded, _ in loaded.original != nil }
    }

    /// The application's values.
    public func data() async throws -> SessionDictionary {
        try await withSession { loaded, _ in try loaded.current.data.dictionary() }
    }

    /// The value under `key`, or `nil`.
    public func value(forKey key: String) async throws -> SessionValue? {
        try await withSession { loaded, _ in try loaded.current.data.value(forKey: key) }
    }

    /// The value under `key` decoded as `T`, or `nil` when the key is absent.
    ///
    /// - Throws: ``SessionError/Code/typeMismatch`` when the stored value is not a `T`.
    public func get<T: Decodable & Sendable>(_ type: T.Type, _ key: String) async throws -> T? {
        try await withSession { loaded, _ in try loaded.current.data.get(type, key) }
    }

    /// Stores `value` under `key`.
    ///
    /// - Throws: ``SessionError/Code/invalidValue`` when the value has no session-value form.
    public func set<T: Encodable>(_ value: T, for key: String) async throws {
        let converted = try SessionValueEncoder().encode(value)
        try await withSession { loaded, _ in loaded.current.data.set(converted, forKey: key) }
    }

    /// Stores a session value under `key`; `nil` removes the key.
    public func setValue(_ value: SessionValue?, forKey key: String) async throws {
        try await withSession { loaded, _ in loaded.current.data.set(value, forKey: key) }
    }

    /// Removes `key` and returns what it held.
    @discardableResult
    public func removeValue(forKey key: String) async throws -> SessionValue? {
        try await withSession { loaded, _ in try loaded.current.data.removeValue(forKey: key) }
    }

    /// Changes the application's values in one step.
    public func update<R: Sendable>(_ body: (inout SessionDictionary) throws -> R) async throws -> R {
        try await withSession { loaded, _ in
            var data = try loaded.current.data.dictionary()
            defer { loaded.current.data = SessionData(data) }
            return try body(&data)
        }
    }

    // MARK: Flash

    /// Stores a flash value: it stays in the session until ``takeFlash(_:_:)`` reads it.
    public func flash<T: Encodable>(_ value: T, for key: String) async throws {
        let converted = try SessionValueEncoder().encode(value)
        try await withSession { loaded, _ in loaded.current.flash[key] = converted }
    }

    /// Stores a flash value as a session value; `nil` removes it.
    public func setFlashValue(_ value: SessionValue?, forKey key: String) async throws {
        try await withSession { loaded, _ in loaded.current.flash[key] = value }
    }

    /// The flash values, without removing them.
    public func flashValues() async throws -> SessionDictionary {
        try await withSession { loaded, _ in loaded.current.flash }
    }

    /// The session's deadline as loaded or last written (`nil`: none, or a new session).
    public func expires() async throws -> UnixTime? {
        try await withSession { loaded, _ in loaded.expires }
    }

    /// When the session began (or its user last logged in).
    public func created() async throws -> UnixTime {
        try await withSession { loaded, _ in loaded.current.created }
    }

    /// Reads and removes the flash value under `key`.
    ///
    /// - Throws: ``SessionError/Code/typeMismatch`` when it is not a `T` (it is removed anyway).
    public func takeFlash<T: Decodable & Sendable>(_ type: T.Type, _ key: String) async throws -> T? {
        let value = try await withSession { loaded, _ in loaded.current.flash.removeValue(forKey: key) }
        guard let value else { return nil }
        var holder = SessionDictionary()
        holder[key] = value
        return try holder.get(type, key)
    }

    /// Reads and removes every flash value.
    public func takeAllFlash() async throws -> SessionDictionary {
        try await withSession { loaded, _ in
            defer { loaded.current.flash.removeAll() }
            return loaded.current.flash
        }
    }

    // MARK: Identity

    /// The user the session belongs to, set by ``logIn(user:)``.
    public func user() async throws -> String? {
        try await withSession { loaded, _ in loaded.current.user }
    }

    /// Starts a new session for `user`: the old session ends (as with ``regenerate()``), the data
    /// carries over, and the session is listed in the per-user index when one is configured.
    /// Call it on every login: a session id (or cookie) known before the login — planted by an
    /// attacker, or seen on a shared computer — is worthless after it.
    public func logIn(user: String) async throws {
        try await regenerate()
        try await withSession { loaded, _ in loaded.current.user = user }
    }

    /// Ends the current session and continues its data in a new one: a new server id (the old
    /// record is deleted), a new handle (the old one revoked when a revocation store is
    /// configured), a new CSRF secret, and a new absolute lifetime.
    public func regenerate() async throws {
        try await withSession { loaded, manager in
            let now = manager.clock.now()
            var renewed = loaded.current
            renewed.handle = StoredSession.newHandle()
            renewed.created = now
            renewed.user = nil
            if renewed.csrf != nil { renewed.csrf = CSRFToken.newSecret() }
            loaded.retire(now: now)
            loaded.current = renewed
        }
    }

    /// Ends the session: its data, flash values and user are gone, its server record is deleted,
    /// its handle revoked when a revocation store is configured, and the response deletes its
    /// cookies. Values set afterwards in the same request start a new session.
    public func destroy() async throws {
        try await withSession { loaded, manager in
            loaded.retire(now: manager.clock.now())
        }
    }

    // MARK: CSRF

    /// A CSRF token for this session, freshly masked on every call; the session's secret is
    /// created on first use. Put it in forms (or a header) and check it with
    /// ``verifyCSRFToken(_:)`` on every state-changing request.
    public func csrfToken() async throws -> String {
        try await withSession { loaded, _ in
            if loaded.current.csrf == nil { loaded.current.csrf = CSRFToken.newSecret() }
            return CSRFToken.mask(loaded.current.csrf!)
        }
    }

    /// Whether `token` is a CSRF token of this session. Compared in constant time; a session
    /// without a secret accepts no token.
    public func verifyCSRFToken(_ token: String) async throws -> Bool {
        try await withSession { loaded, _ in
            guard let secret = loaded.current.csrf else { return false }
            return CSRFToken.verify(token, secret: secret)
        }
    }

    // MARK: Saving

    /// Writes the session now rather than after the handler, so the handler sees a failure (a
    /// session too large for its cookies, a store that is down) and can answer accordingly.
    /// ``commit()`` still returns the cookies.
    public func save() async throws {
        guard isLoaded else { return }
        let cookies = try await write()
        state.withLock { state in
            state.written.removeAll { cookie in cookies.contains { $0.name == cookie.name } }
            state.written += cookies
        }
    }

    /// Writes the session if it needs it and returns the `Set-Cookie` headers for the response
    /// (none when the session was never touched or nothing changed). Framework adapters call it
    /// once, after the handler.
    public func commit() async throws -> [SetCookie] {
        guard isLoaded else { return [] }
        let cookies = try await write()
        return state.withLock { state in
            // The usual request saves once, here: its cookies are the answer as they are.
            if state.written.isEmpty { return cookies }
            var written = state.written
            state.written = []
            written.removeAll { cookie in cookies.contains { $0.name == cookie.name } }
            return written + cookies
        }
    }

    private func write() async throws -> [SetCookie] {
        // One copy, written while the handle keeps serving the session as it was; the written
        // one then takes its place by a swap.
        var snapshot: LoadedSession?
        let manager = state.withLock { state in
            snapshot = state.loaded
            return state.manager
        }
        guard let manager, snapshot != nil else { return [] }
        let cookies = try await manager.persist(&snapshot!)
        state.withLock { state in swap(&state.loaded, &snapshot) }
        return cookies
    }
}
