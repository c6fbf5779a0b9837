/// Web sessions over cookies: reads a request's session lazily, writes it back only when it
/// changed, and handles expiry, id regeneration, logout, flash values, CSRF tokens and the
/// per-user index. Framework adapters (such as the Hummingbird middleware) are thin layers over it.
///
/// Three modes:
///
/// - **client**: the whole session travels in the cookie, sealed by a ``CookieCodec`` (encrypted or
///   signed, with the cookie's name as context and the expiry inside the envelope). No server
///   state.
/// - **server**: the cookie holds a random 256-bit ``SessionID``; the session lives in a
///   ``SessionStore`` built from any pipeline. Concurrent requests on one session are merged key
///   by key over the store's compare-and-swap.
/// - **hybrid**: like client, until a session outgrows the cookie budget; then its data moves to the
///   store and the sealed cookie keeps only the id of the server record. It moves back when it
///   shrinks.
///
/// ```swift
/// let keys = try KeyRing(environment: "SESSION_KEYS")
/// let codec = try CookieCodec(serializer: MessagePackSerializer(), protection: .encrypted(Encryption(keys: keys)))
/// let sessions = try SessionManager(.client(codec))
///
/// // per request (the Hummingbird middleware does this for you):
/// let session = RequestSession()
/// session.attach(to: sessions, cookieHeaders: request.cookieHeaders)
/// let count = try await session.get(Int.self, "count") ?? 0
/// try await session.set(count + 1, for: "count")
/// for cookie in try await session.commit() { response.append("Set-Cookie", cookie.headerValue) }
/// ```
///
/// ## Expiry
///
/// A session ends after ``Expiry/idle`` without a request that reads it, and in any case
/// ``Expiry/absolute`` after it began (at login, since ``RequestSession/logIn(user:)`` starts a new
/// session). The deadline is the earlier of the two; it is sealed into client cookies and set on
/// server records, and the cookie's `Max-Age` follows it. A session that is read but not changed
/// has its deadline extended — and so is written — at most once per ``Expiry/refreshInterval``.
///
/// ## Ending sessions
///
/// ``RequestSession/regenerate()`` and ``RequestSession/destroy()`` end the current session. In
/// server mode its record is deleted, so the old cookie is dead at once. A client-mode cookie is a
/// self-contained credential: it stays valid until its sealed expiry unless
/// ``Options/revocations`` is set, in which case the ended session's handle is written to that
/// store (`revoked:HANDLE`) until the old cookie would have expired, and every request that reads a
/// session checks it — one store read per such request. Rotating the key ring also ends every
/// cookie sealed under a retired key.
public struct SessionManager: Sendable {
    /// Where sessions live.
    public enum Mode: Sendable {
        /// In the cookie, sealed by the codec.
        case client(CookieCodec)
        /// In the store; the cookie, named and attributed by `cookie`, holds the session id.
        case server(SessionStore, cookie: CookieCodec.Configuration = CookieCodec.Configuration())
        /// In the cookie while it fits, in the store beyond.
        case hybrid(CookieCodec, SessionStore)

        /// `client`, `server` or `hybrid`.
        public var name: String {
            switch self {
            case .client: "client"
            case .server: "server"
            case .hybrid: "hybrid"
            }
        }
    }

    /// How long sessions live.
    public struct Expiry: Sendable, Hashable {
        /// How long a session lives without a request that reads it; `nil` for no idle limit.
        /// Default 30 minutes.
        public var idle: Duration?
        /// How long a session lives at most, counted from its start (or the last login); `nil` for
        /// no limit. Default 12 hours.
        public var absolute: Duration?
        /// The least time between two extensions of an unchanged session's deadline: each
        /// extension is a write (a new cookie, or a store `touch`). Default 60 seconds.
        public var refreshInterval: Duration

        /// Creates an expiry policy.
        public init(
            idle: Duration? = .seconds(30 * 60),
            absolute: Duration? = .seconds(12 * 60 * 60),
            refreshInterval: Duration = .seconds(60)
        ) {
            self.idle = idle
            self.absolute = absolute
            self.refreshInterval = refreshInterval
        }
    }

    /// Everything besides the mode.
    public struct Options: Sendable {
        /// How long sessions live.
        public var expiry: Expiry
        /// Client and hybrid mode: a store recording ended sessions, so their cookies stop working
        /// before they expire. Without it, ending a client session only deletes the cookie from
        /// the browser that sent the request.
        public var revocations: SessionStore?
        /// A store for the per-user index (`user:NAME`), which lists each user's sessions so they
        /// can be revoked together. `nil` (the default) keeps no index.
        public var userIndex: SessionStore?
        /// How often a save that lost a compare-and-swap race is retried before it fails with
        /// ``SessionError/Code/conflict``. Default 64.
        public var maximumSaveAttempts: Int
        /// The clock; `nil` uses the store's clock in server and hybrid mode and the system clock
        /// in client mode.
        public var clock: (any SessionClock)?

        /// Creates options.
        public init(
            expiry: Expiry = Expiry(),
            revocations: SessionStore? = nil,
            userIndex: SessionStore? = nil,
            maximumSaveAttempts: Int = 64,
            clock: (any SessionClock)? = nil
        ) {
            self.expiry = expiry
            self.revocations = revocations
            self.userIndex = userIndex
            self.maximumSaveAttempts = maximumSaveAttempts
            self.clock = clock
        }
    }

    /// What a manager holds, behind one reference: a request copies the manager into its
    /// session handle, and a copy then costs one retain instead of one per codec and store part.
    private final class Parts: Sendable {
        let mode: Mode
        let options: Options
        // Read on every request, so kept apart from `options`: the options hold existentials
        // (stores, the clock), and the compiler copies the whole struct, through their value
        // witnesses, to read any one field of it.
        /// `options.expiry`.
        let expiry: Expiry
        /// Whether `options.userIndex` is set.
        let hasUserIndex: Bool
        /// The cookie's attributes, rendered but for `Max-Age` and `Expires` (server mode sets its
        /// id cookie on every request that moves the deadline).
        let cookieAttributes: CookieAttributes.Template
        let clock: any SessionClock
        let cookie: CookieCodec.Configuration
        // The codec and the stores, each behind a reference of its own. Both types hold
        // existentials, so they are address-only: binding an optional one (`if let codec`) copied
        // it through value witnesses that retained every part, parts that every request shares
        // with every other. Bound from here, it is the reference alone, and the value is used
        // where it lies.
        /// The cookie codec (client and hybrid mode).
        let client: Shared<CookieCodec>?
        /// The session store (server and hybrid mode).
        let server: Shared<SessionStore>?
        /// `options.revocations`.
        let revocations: Shared<SessionStore>?

        init(
            mode: Mode, options: Options, clock: any SessionClock, codec: CookieCodec?, store: SessionStore?,
            cookie: CookieCodec.Configuration
        ) {
            (self.mode, self.options, self.clock) = (mode, options, clock)
            (self.expiry, self.hasUserIndex) = (options.expiry, options.userIndex != nil)
            self.cookieAttributes = CookieAttributes.Template(cookie.attributes)
            self.cookie = cookie
            (self.client, self.server) = (codec.map(Shared.init), store.map(Shared.init))
            self.revocations = options.revocations.map(Shared.init)
        }
    }

    private let parts: Parts

    /// The mode.
    public var mode: Mode { parts.mode }
    /// The options.
    public var options: Options { parts.options }
    /// The clock every deadline is computed from.
    public var clock: any SessionClock { parts.clock }

    var codec: CookieCodec? { parts.client?.value }
    var store: SessionStore? { parts.server?.value }
    /// The cookie's name, attributes and limits.
    public var cookie: CookieCodec.Configuration { parts.cookie }

    /// Creates a manager.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` for an invalid cookie configuration,
    ///   a non-positive lifetime, or fewer than one save attempt.
    public init(_ mode: Mode, options: Options = Options()) throws {
        func refuse(_ reason: String) -> SessionError {
            SessionError(.invalidConfiguration, reason, layer: "SessionManager")
        }
        let codec: CookieCodec?
        let store: SessionStore?
        let cookie: CookieCodec.Configuration
        switch mode {
        case .client(let client):
            (codec, store, cookie) = (client, nil, client.configuration)
        case .server(let server, let configuration):
            try configuration.validate()
            (codec, store, cookie) = (nil, server, configuration)
        case .hybrid(let client, let server):
            (codec, store, cookie) = (client, server, client.configuration)
        }
        let expiry = options.expiry
        if let idle = expiry.idle, idle < .seconds(1) { throw refuse("the idle timeout must be at least one second") }
        if let absolute = expiry.absolute, absolute < .seconds(1) {
            throw refuse("the absolute timeout must be at least one second")
        }
        guard expiry.refreshInterval >= .zero else { throw refuse("the refresh interval cannot be negative") }
        guard options.maximumSaveAttempts >= 1 else { throw refuse("a save needs at least one attempt") }
        parts = Parts(
            mode: mode, options: options, clock: options.clock ?? store?.clock ?? SystemClock(), codec: codec,
            store: store, cookie: cookie)
    }

    // MARK: Deadlines

    /// The deadline of a session that began at `created`, written at `now`.
    func deadline(created: UnixTime, now: UnixTime) -> UnixTime? {
        let idle = parts.expiry.idle.map { now + $0 }
        let absolute = parts.expiry.absolute.map { created + $0 }
        switch (idle, absolute) {
        case (let idle?, let absolute?): return min(idle, absolute)
        case (let idle?, nil): return idle
        case (nil, let absolute?): return absolute
        case (nil, nil): return nil
        }
    }

    /// Whether a session that began at `created` has outlived its absolute lifetime.
    func hasOutlived(created: UnixTime, now: UnixTime) -> Bool {
        guard let absolute = parts.expiry.absolute else { return false }
        return now >= created + absolute
    }

    /// Whether moving the deadline from `old` to `new` is worth a write.
    func refreshIsDue(from old: UnixTime?, to new: UnixTime?) -> Bool {
        guard parts.expiry.idle != nil, let new else { return false }
        guard let old else { return true }
        return new - old >= parts.expiry.refreshInterval
    }

    // MARK: Loading

    /// Codes that mean "the client sent something unusable", as opposed to a failing store.
    static func describesInput(_ error: SessionError) -> Bool {
        switch error.code {
        case .io, .unsupported, .invalidConfiguration, .conflict: false
        default: true
        }
    }

    /// Reads the session a request's cookies carry.
    func load(cookieHeaders: [String]) async throws -> LoadedSession {
        let now = clock.now()
        var found: LoadedSession?
        var presentChunks = 0
        var rejection: SessionError?
        do {
            if let client = parts.client {
                // The cookies are read in place, out of the headers: the sealed text is opened
                // where it lies. `presentChunks` is set before anything can fail, so that a
                // rejected cookie is still cleared.
                let opened = try RequestCookies.withCookies(inHeaders: cookieHeaders) { cookies in
                    presentChunks = client.value.presentChunks(in: cookies)
                    guard presentChunks > 0 else { return nil as CookieCodec.OpenedPayload? }
                    guard let opened = try client.value.readPayload(cookies, now: now) else {
                        throw SessionError(
                            .malformed, "chunk cookies arrived without the session cookie", layer: "SessionManager")
                    }
                    return opened
                }
                if let opened { found = try await loadClient(client.value, opened) }
            } else {
                let id = RequestCookies.withCookies(inHeaders: cookieHeaders) { cookies in
                    cookies.value(named: cookie.name).map { String(decoding: $0, as: UTF8.self) }
                }
                if let id {
                    presentChunks = 1
                    found = try await loadServer(id: id)
                }
            }
        } catch let error as SessionError where Self.describesInput(error) {
            rejection = error
        }
        // A new session (its storage, and its handle: a system call) only when the request turns
        // out to have none.
        var loaded = found ?? LoadedSession(fresh: StoredSession(created: now, handle: StoredSession.newHandle()))
        loaded.presentChunks = presentChunks
        loaded.rejection = rejection
        if let original = loaded.original, hasOutlived(created: original.created, now: now) {
            loaded.rejection = SessionError(
                .expired, "the session outlived its absolute lifetime", layer: "SessionManager")
            loaded.retire(now: now)
        }
        return loaded
    }

    /// The session the request's id cookie, whose value is `text`, names.
    private func loadServer(id text: String) async throws -> LoadedSession {
        let id: SessionID
        do {
            id = try SessionID(text)
        } catch {
            throw SessionError(.malformed, "the session cookie is not a session id", layer: "SessionManager")
        }
        guard let server = parts.server, let record = try await server.value.record(.session(id)) else {
            throw SessionError(.expired, "the session cookie names no live session", layer: "SessionManager")
        }
        guard case .session(let stored) = try StoredSession.decode(record.value) else {
            throw SessionError(.corrupt, "a server session record holds a pointer", layer: "SessionManager")
        }
        var loaded = LoadedSession(adopting: stored, serverID: id, version: record.version, expires: record.expires)
        loaded.needsReseal = record.flags.contains(.needsReseal)
        return loaded
    }

    /// The session the request's cookies hold, opened down to `opened`.
    private func loadClient(_ codec: CookieCodec, _ opened: CookieCodec.OpenedPayload) async throws -> LoadedSession {
        var stored: StoredSession
        var serverID: SessionID?
        var version: RecordVersion?
        var needsReseal = opened.needsReseal
        let decoded: StoredSession.Decoded
        if let reader = codec.splicingReader, opened.payload.first == reader.value.tag,
            let entries = try reader.value.entries(of: EncodedValue(payload: opened.payload))
        {
            // The data entries stay encoded until the request uses them.
            decoded = try StoredSession.decode(entries: entries, reader: reader)
        } else {
            decoded = try StoredSession.decode(try codec.deserialize(opened.payload))
        }
        switch decoded {
        case .session(let session):
            stored = session
        case .pointer(let id, _, let handle):
            guard let server = parts.server else {
                throw SessionError(.corrupt, "a client-mode cookie holds a pointer", layer: "SessionManager")
            }
            guard let record = try await server.value.record(.session(id)) else {
                throw SessionError(.expired, "the session's server record is gone", layer: "SessionManager")
            }
            guard case .session(let session) = try StoredSession.decode(record.value), session.handle == handle else {
                throw SessionError(.corrupt, "the server record belongs to another session", layer: "SessionManager")
            }
            (stored, serverID, version) = (session, id, record.version)
            needsReseal = needsReseal || record.flags.contains(.needsReseal)
        }
        if let revocations = parts.revocations,
            try await revocations.value.get(Self.revocationKey(stored.handle)) != nil
        {
            throw SessionError(.expired, "the session was revoked", layer: "SessionManager")
        }
        var loaded = LoadedSession(adopting: stored, serverID: serverID, version: version, expires: opened.expires)
        loaded.needsReseal = needsReseal
        return loaded
    }

    static func revocationKey(_ handle: String) throws -> SessionKey {
        try SessionKey(prefix: "revoked", id: handle)
    }

    // MARK: Writing

    /// Writes what changed in `loaded` and returns the cookies that go with it.
    func persist(_ loaded: inout LoadedSession) async throws -> [SetCookie] {
        let now = clock.now()
        for retired in loaded.retired {
            try await retire(retired, now: now)
        }
        loaded.retired = []
        if loaded.current.isEmpty || hasOutlived(created: loaded.current.created, now: now) {
            // Nothing worth keeping: remove what there was.
            if loaded.original != nil {
                try await retire(RetiredSession(loaded, now: now), now: now)
            } else if let id = loaded.serverID {
                try await store?.destroy(id)
            }
            return end(&loaded, now: now)
        }
        let expires = deadline(created: loaded.current.created, now: now)
        let changed = loaded.original == nil || loaded.original != loaded.current
        let refresh = refreshIsDue(from: loaded.expires, to: expires)
        guard changed || loaded.needsReseal || refresh else { return [] }

        let cookies: [SetCookie]
        if let client = parts.client {
            cookies = try await persistClient(client.value, &loaded, expires: expires, changed: changed, now: now)
        } else {
            guard
                let written = try await persistServer(
                    &loaded, expires: expires, changed: changed, now: now)
            else {
                // Ended elsewhere (a logout, a revocation) while this request ran: it stays ended.
                return end(&loaded, now: now)
            }
            cookies = written
        }
        if let user = loaded.current.user, parts.hasUserIndex, user != loaded.original?.user {
            try await index(
                user, adding: loaded.current.handle, created: loaded.current.created, serverID: loaded.serverID,
                now: now)
        }
        loaded.original = loaded.current
        loaded.expires = expires
        loaded.needsReseal = false
        return cookies
    }

    private func persistServer(
        _ loaded: inout LoadedSession,
        expires: UnixTime?,
        changed: Bool,
        now: UnixTime
    ) async throws -> [SetCookie]? {
        guard let server = parts.server else { return [] }
        if loaded.original == nil || loaded.serverID == nil {
            let (id, version) = try await create(loaded.current, expires: expires)
            loaded.serverID = id
            loaded.version = version
            return [sessionIDCookie(id, expires: expires, now: now)]
        }
        let id = loaded.serverID!
        let survived: Bool
        if changed || loaded.needsReseal {
            survived = try await saveMerging(id, &loaded, expires: expires, store: server.value)
        } else {
            survived = try await server.value.touch(.session(id), expires: expires)
        }
        guard survived else { return nil }
        // The browser's copy of the cookie expires with the `Max-Age` it was last sent with, so
        // every write that moves the deadline sends it again (a few dozen bytes).
        return [sessionIDCookie(id, expires: expires, now: now)]
    }

    private func persistClient(
        _ codec: CookieCodec,
        _ loaded: inout LoadedSession,
        expires: UnixTime?,
        changed: Bool,
        now: UnixTime
    ) async throws -> [SetCookie] {
        var cookies: [SetCookie]
        do {
            let payload =
                if let reader = codec.splicingReader {
                    try reader.value.serialize(loaded.current.spliced)
                } else {
                    try codec.serializer.serialize(try loaded.current.persistedValue())
                }
            cookies = try codec.setCookies(
                forPayload: payload,
                expires: expires,
                now: now,
                previousChunks: loaded.presentChunks
            )
            if let id = loaded.serverID {
                // It fits in the cookie again: the server copy goes.
                try await store?.destroy(id)
                loaded.serverID = nil
                loaded.version = nil
            }
        } catch let error as SessionError where error.code == .tooLarge {
            guard let store else { throw error }
            var id = loaded.serverID
            if let existing = id, loaded.original != nil {
                let survived =
                    changed || loaded.needsReseal
                    ? try await saveMerging(existing, &loaded, expires: expires, store: store)
                    : try await store.touch(.session(existing), expires: expires)
                if !survived { id = nil }
            } else {
                id = nil
            }
            if id == nil {
                let created = try await create(loaded.current, expires: expires)
                id = created.id
                loaded.version = created.version
            }
            loaded.serverID = id
            cookies = try codec.setCookies(
                for: loaded.current.pointer(to: id!),
                expires: expires,
                now: now,
                previousChunks: loaded.presentChunks
            )
        }
        loaded.presentChunks = cookies.count { !$0.isDeletion }
        return cookies
    }

    /// Stores `session` under a new random id.
    private func create(_ session: StoredSession, expires: UnixTime?) async throws -> (
        id: SessionID, version: RecordVersion?
    ) {
        guard let store else { preconditionFailure("create needs a store") }
        let id = SessionID.random()
        let record = Record(try session.persistedValue(), expires: expires)
        if store.capabilities.compareAndSwap {
            // 256 random bits do not collide; compare-and-swap makes sure of it anyway.
            guard let version = try await store.base.compareAndSwap(.session(id), expecting: nil, with: record) else {
                throw SessionError(.conflict, "a new session id was already taken", layer: "SessionManager")
            }
            return (id, version)
        }
        return (id, try await store.base.set(.session(id), to: record))
    }

    /// Saves `loaded.current` over server record `id`. When another request saved first, the
    /// changes this request made are applied key by key to what that request saved, and the save
    /// is tried again.
    ///
    /// - Returns: `false` when the record is gone (the session was ended elsewhere).
    private func saveMerging(
        _ id: SessionID,
        _ loaded: inout LoadedSession,
        expires: UnixTime?,
        store: SessionStore
    ) async throws -> Bool {
        let key = SessionKey.session(id)
        guard store.capabilities.compareAndSwap else {
            loaded.version = try await store.base.set(
                key, to: Record(try loaded.current.persistedValue(), expires: expires))
            return true
        }
        let original = loaded.original ?? loaded.current
        var expected = loaded.version
        var attempt = loaded.current
        for round in 0..<options.maximumSaveAttempts {
            if let version = try await store.base.compareAndSwap(
                key,
                expecting: expected,
                with: Record(try attempt.persistedValue(), expires: expires)
            ) {
                loaded.current = attempt
                loaded.version = version
                return true
            }
            guard let record = try await store.record(key),
                case .session(let theirs)? = try? StoredSession.decode(record.value),
                theirs.handle == loaded.current.handle
            else { return false }
            expected = record.version
            attempt = try loaded.current.changes(since: original, appliedTo: theirs)
            try await Self.backOff(round)
        }
        throw SessionError(
            .conflict,
            "the session was saved by other requests \(options.maximumSaveAttempts) times while this one tried",
            layer: "SessionManager"
        )
    }

    /// Waits a random time that grows with the round, so racing writers spread out.
    static func backOff(_ round: Int) async throws {
        let ceiling = UInt64(min(1 << min(round, 6), 50))
        let milliseconds = Sodium.randomUInt64() % (ceiling + 1)
        if milliseconds > 0 {
            try await Task.sleep(for: .milliseconds(milliseconds))
        } else {
            await Task.yield()
        }
    }

    /// Ends a session for good: its server record, its revocation, its place in the user index.
    private func retire(_ retired: RetiredSession, now: UnixTime) async throws {
        try await retireWithoutIndex(retired, now: now)
        if let user = retired.user, parts.hasUserIndex {
            try await index(user, removing: retired.handle, now: now)
        }
    }

    /// Deletes a session's server record and, for client cookies, records its revocation until
    /// the last cookie it could have been given expires.
    func retireWithoutIndex(_ retired: RetiredSession, now: UnixTime) async throws {
        if let id = retired.serverID {
            try await store?.destroy(id)
        }
        if codec != nil, let revocations = options.revocations {
            let expires = deadline(created: retired.created, now: now)
            try await revocations.set(Self.revocationKey(retired.handle), .bool(true), expires: expires)
        }
    }

    /// Leaves `loaded` empty and returns the deletions of the cookies the client holds.
    private func end(_ loaded: inout LoadedSession, now: UnixTime) -> [SetCookie] {
        let deletions = loaded.presentChunks > 0 ? deletions(count: loaded.presentChunks) : []
        loaded.reset(created: now)
        loaded.presentChunks = 0
        return deletions
    }

    // MARK: Cookies

    func sessionIDCookie(_ id: SessionID, expires: UnixTime?, now: UnixTime) -> SetCookie {
        SetCookie(
            name: cookie.name,
            value: id.rawValue,
            attributes: parts.cookieAttributes.rendered(maxAge: CookieCodec.maxAge(expires, now: now), expires: expires)
        )
    }

    func deletions(count: Int) -> [SetCookie] {
        (0..<max(1, count)).map { index in
            SetCookie.deletion(of: index == 0 ? cookie.name : "\(cookie.name)_\(index)", attributes: cookie.attributes)
        }
    }
}

/// A session as one request sees it.
struct LoadedSession: Sendable {
    /// The session as loaded, or as last saved; `nil` for a session that does not exist yet.
    var original: StoredSession?
    /// The session as the request left it.
    var current: StoredSession
    /// Server mode: the session's record. Hybrid mode: the record holding its data, if any.
    var serverID: SessionID?
    /// The record's version, for compare-and-swap.
    var version: RecordVersion?
    /// The deadline of the loaded cookie or record.
    var expires: UnixTime?
    /// Whether it was sealed under an older key.
    var needsReseal = false
    /// How many of the session's cookies the request carried (or the last response set).
    var presentChunks = 0
    /// Why the request's cookie was not used, if it was not.
    var rejection: SessionError?
    /// Sessions this request ended, to be removed when it is written.
    var retired: [RetiredSession] = []

    init(fresh: StoredSession) {
        self.current = fresh
    }

    /// The session a request's cookies carried, as loaded.
    init(adopting stored: StoredSession, serverID: SessionID?, version: RecordVersion?, expires: UnixTime?) {
        self.original = stored
        self.current = stored
        self.serverID = serverID
        self.version = version
        self.expires = expires
    }

    /// Ends the loaded session, if there was one (its record, handle and user-index entry are
    /// dealt with on save), and starts over with an empty one.
    mutating func retire(now: UnixTime) {
        if original != nil { retired.append(RetiredSession(self, now: now)) }
        reset(created: now)
    }

    /// Starts over with an empty session (the cookies the request carried are still there).
    mutating func reset(created: UnixTime) {
        original = nil
        current = StoredSession(created: created, handle: StoredSession.newHandle())
        serverID = nil
        version = nil
        expires = nil
        needsReseal = false
    }
}

/// A session ended by the current request.
struct RetiredSession: Sendable {
    var serverID: SessionID?
    var handle: String
    var user: String?
    var created: UnixTime

    init(handle: String, created: UnixTime) {
        self.handle = handle
        self.created = created
    }

    init(_ loaded: LoadedSession, now: UnixTime) {
        self.serverID = loaded.serverID
        self.handle = (loaded.original ?? loaded.current).handle
        self.user = loaded.original?.user
        self.created = (loaded.original ?? loaded.current).created
    }
}
