#if Hummingbird
    public import Hummingbird
    import HTTPTypes
    import Logging
    public import SessionPipeline

    /// A request context that carries the request's session.
    ///
    /// Give your context a `session` property holding a fresh ``RequestSession``; the middleware
    /// attaches it to the request before your routes run.
    ///
    /// ```swift
    /// struct AppContext: SessionPipelineRequestContext {
    ///     var coreContext: CoreRequestContextStorage
    ///     let session = RequestSession()
    ///     init(source: Source) { coreContext = .init(source: source) }
    /// }
    /// ```
    public protocol SessionPipelineRequestContext: RequestContext {
        /// The request's session.
        var session: RequestSession { get }
    }

    /// A ready-made context with a session and nothing else.
    public struct BasicSessionPipelineRequestContext: SessionPipelineRequestContext {
        /// Hummingbird's per-request state.
        public var coreContext: CoreRequestContextStorage
        /// The request's session.
        public let session = RequestSession()

        /// Creates the context for one request.
        public init(source: Source) {
            self.coreContext = .init(source: source)
        }
    }

    /// Sessions for Hummingbird 2: attaches each request's ``RequestSession`` before the routes
    /// run, and after them sets the cookies that persist it.
    ///
    /// ```swift
    /// let keys = try KeyRing(environment: "SESSION_KEYS")
    /// let codec = try CookieCodec(serializer: .binary, protection: .encrypted(Encryption(keys: keys)))
    /// let router = Router(context: BasicSessionPipelineRequestContext.self)
    /// router.add(middleware: SessionPipelineMiddleware(try SessionManager(.client(codec))))
    /// router.get("/counter") { _, context in
    ///     let count = (try await context.session.get(Int.self, "count") ?? 0) + 1
    ///     try await context.session.set(count, for: "count")
    ///     return "\(count)"
    /// }
    /// ```
    ///
    /// What it does per request:
    ///
    /// - Before the route: hands the `Cookie` header values to the session, unread. A route that
    ///   never touches the session costs nothing more.
    /// - After the route: writes the session if it changed (or needs re-sealing or a later
    ///   deadline) and appends the `Set-Cookie` headers; adds `Vary: Cookie` and
    ///   `Cache-Control: private` when the session was read, so shared caches keep one user's page
    ///   from another.
    /// - A cookie that is tampered with, expired, revoked or unreadable is logged at `notice` level
    ///   (the reason, never the cookie) and the route sees a new, empty session: never a 500.
    /// - When the route throws, the session is not saved: a failed request changes nothing.
    ///   A session that cannot be saved (a store that is down, a client session beyond its cookie
    ///   budget) fails the request, logged at `error` level; call ``RequestSession/save()`` in the
    ///   route to handle that there instead.
    public struct SessionPipelineMiddleware<Context: SessionPipelineRequestContext>: RouterMiddleware {
        /// The sessions.
        public let sessions: SessionManager

        /// Creates the middleware.
        public init(_ sessions: SessionManager) {
            self.sessions = sessions
        }

        /// Attaches the session, runs the route, and persists the session.
        public func handle(
            _ request: Request,
            context: Context,
            next: (Request, Context) async throws -> Response
        ) async throws -> Response {
            let session = context.session
            session.attach(to: sessions, cookieHeaders: request.headers[values: .cookie])
            var response = try await next(request, context)
            guard session.isLoaded else { return response }
            let cookies: [SetCookie]
            do {
                cookies = try await session.commit()
            } catch {
                context.logger.error(
                    "session could not be saved",
                    metadata: ["session.mode": "\(sessions.mode.name)", "session.error": "\(error)"]
                )
                throw error
            }
            if let rejection = session.rejection {
                context.logger.notice(
                    "session cookie ignored",
                    metadata: [
                        "session.rejection": "\(rejection.code)", "session.reason": "\(rejection.message)",
                    ]
                )
            }
            for cookie in cookies {
                response.headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
            }
            if !response.headers[values: .vary].contains(where: { $0.lowercased().contains("cookie") }) {
                response.headers.append(HTTPField(name: .vary, value: "Cookie"))
            }
            if response.headers[.cacheControl] == nil {
                response.headers[.cacheControl] = "private"
            }
            return response
        }
    }

    extension SessionManager {
        /// Request headers carrying a new session with `data`, `flash` values and, when given,
        /// logged in as `user`: for an application's tests.
        ///
        /// ```swift
        /// let headers = try await sessions.requestHeaders(data: ["count": 41])
        /// try await client.execute(uri: "/counter", method: .get, headers: headers)
        /// ```
        public func requestHeaders(
            data: SessionDictionary,
            flash: SessionDictionary = SessionDictionary(),
            user: String? = nil
        ) async throws -> HTTPFields {
            [.cookie: try await cookieHeader(data: data, flash: flash, user: user)]
        }

        /// The session a response's `Set-Cookie` headers carry; `nil` when they carry none.
        public func snapshot(response headers: HTTPFields) async throws -> Snapshot? {
            try await snapshot(setCookieHeaders: headers[values: .setCookie])
        }
    }
#endif
