#if Hummingbird
    import Hummingbird
    import Logging
    import Serializers
    import SessionPipeline
    import SessionPipelineHummingbird

    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// The demo application: its sessions and its routes.
    struct Demo: Sendable {
        let options: DemoOptions
        let sessions: SessionManager
        let logger: Logger

        /// The cookie configuration: the safe defaults, plus room for a 20 KB session in 8 chunks.
        /// (32 KiB of `Cookie` header is more than nginx accepts by default, 8 KiB per header line:
        /// raise `large_client_header_buffers` in front of a server configured like this.)
        static func cookie(insecure: Bool) -> CookieCodec.Configuration {
            var attributes = CookieAttributes()
            attributes.secure = !insecure
            return CookieCodec.Configuration(
                name: "session",
                attributes: attributes,
                maximumChunks: 8,
                maximumHeaderBytes: 32 * 1024
            )
        }

        /// Creates the application; `keys` overrides `SESSION_KEYS`, `clock` the system clock.
        init(
            options: DemoOptions,
            logger: Logger,
            keys givenKeys: KeyRing? = nil,
            clock: any SessionClock = SystemClock()
        ) throws {
            self.options = options
            self.logger = logger
            let keys: KeyRing
            if let givenKeys {
                keys = givenKeys
            } else if getenv("SESSION_KEYS") != nil {
                keys = try KeyRing(environment: "SESSION_KEYS")
            } else {
                keys = KeyRing(id: 1, key: SecretKey.random())
                printError(
                    "SESSION_KEYS is not set: sealing sessions with an ephemeral key, so they end when this process does"
                )
            }
            // Server-side state (sessions in server and hybrid mode, the revocation list, the
            // per-user index) goes through the same pipeline: compact binary, encrypted.
            let store: SessionStore
            if let path = options.storePath {
                store = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys)
                    .driver(FileDriver(root: path, clock: clock))
            } else {
                store = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys)
                    .driver(MemoryDriver<[UInt8]>(clock: clock))
            }
            let cookie = Self.cookie(insecure: options.insecureCookies)
            let codec = try CookieCodec(
                serializer: .binary,
                // Compression buys room under the 4096-byte cookie budget; a session under 1 KiB
                // is far from it, so it is sealed as it is and skips zstd on every request.
                compression: Compression(.zstd(), threshold: 1024),
                protection: .encrypted(Encryption(keys: keys)),
                configuration: cookie
            )
            let mode: SessionManager.Mode =
                switch options.mode {
                case .client: .client(codec)
                case .server: .server(store, cookie: cookie)
                case .hybrid: .hybrid(codec, store)
                }
            let expiry = SessionManager.Expiry(
                idle: .seconds(options.idleSeconds),
                absolute: .seconds(options.absoluteSeconds)
            )
            self.sessions = try SessionManager(
                mode,
                options: .init(expiry: expiry, revocations: store, userIndex: store, clock: clock)
            )
        }

        /// The `Cookie` header of a new session holding the JSON object in the file at `path`.
        func cookieHeader(forSessionIn path: String) async throws -> String {
            try await sessions.cookieHeader(data: try sessionData(in: path))
        }

        /// Creates `count` sessions holding the JSON object in the file at `path` and writes their
        /// `Cookie` headers, one per line, to the file at `output`.
        func preload(_ count: Int, sessionsFrom path: String, cookiesTo output: String) async throws {
            let data = try sessionData(in: path)
            var lines = ""
            for _ in 0..<count {
                lines += try await sessions.cookieHeader(data: data) + "\n"
            }
            guard let file = fopen(output, "wb") else {
                throw SessionError(.io, "cannot create \(output)", layer: "CookieSessions")
            }
            defer { fclose(file) }
            let bytes = Array(lines.utf8)
            guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
                throw SessionError(.io, "cannot write \(output)", layer: "CookieSessions")
            }
        }

        /// The JSON object in the file at `path`, as session data.
        private func sessionData(in path: String) throws -> SessionDictionary {
            guard let file = fopen(path, "rb") else {
                throw SessionError(.io, "cannot open \(path)", layer: "CookieSessions")
            }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            let serializer = JSONSerializer()
            guard let data = SessionDictionary(try serializer.deserialize([serializer.tag] + bytes)) else {
                throw SessionError(.invalidValue, "\(path) does not hold a JSON object", layer: "CookieSessions")
            }
            return data
        }

        /// The application, listening on 127.0.0.1; `onRunning` gets the port.
        func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
            Application(
                router: router(),
                configuration: .init(address: .hostname("127.0.0.1", port: options.port), serverName: "CookieSessions"),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) },
                logger: logger
            )
        }

        /// The routes.
        func router() -> Router<BasicSessionPipelineRequestContext> {
            let router = Router(context: BasicSessionPipelineRequestContext.self)
            router.add(middleware: SessionPipelineMiddleware(sessions))
            let sessions = self.sessions
            let mode = options.mode.rawValue

            router.get("/") { _, _ in
                Response(
                    status: .ok,
                    headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: DemoPage.html(mode: mode)))
                )
            }
            router.get("/plain") { _, _ in "ok" }

            router.get("/counter") { _, context in
                let count = (try await context.session.get(Int.self, "count") ?? 0) + 1
                try await context.session.set(count, for: "count")
                return json(["count": .int(Int64(count))])
            }

            router.post("/login") { request, context in
                let user = try parameter(request, "user")
                try await context.session.logIn(user: user)
                return json(["user": .string(user)])
            }
            router.get("/whoami") { _, context in
                json(["user": try await context.session.user().map(SessionValue.string) ?? .null])
            }
            router.post("/logout") { _, context in
                try await context.session.destroy()
                return json(["user": .null])
            }
            router.post("/logout-everywhere") { _, context in
                var revoked = 0
                if let user = try await context.session.user() {
                    revoked = try await sessions.revokeAllSessions(ofUser: user)
                }
                try await context.session.destroy()
                return json(["revoked": .int(Int64(revoked))])
            }

            router.post("/flash") { request, context in
                let message = try parameter(request, "message")
                var messages = try await context.session.takeFlash([String].self, "messages") ?? []
                messages.append(message)
                try await context.session.flash(messages, for: "messages")
                return json(["queued": .int(Int64(messages.count))])
            }
            router.get("/flash") { _, context in
                let messages = try await context.session.takeFlash([String].self, "messages") ?? []
                return json(["messages": .array(messages.map(SessionValue.string))])
            }

            // Random bytes, so compression cannot shrink the session: `bytes` more of them.
            router.post("/grow") { request, context in
                let bytes = min(Int(request.uri.queryParameters["bytes"] ?? "") ?? 7000, 64_000)
                let total = try await context.session.update { data -> Int in
                    guard case .bytes(var ballast)? = data["ballast"] else {
                        data["ballast"] = .bytes(randomBytes(bytes))
                        return bytes
                    }
                    ballast += randomBytes(bytes)
                    data["ballast"] = .bytes(ballast)
                    return ballast.count
                }
                return json(["ballast": .int(Int64(total))])
            }
            router.post("/shrink") { _, context in
                try await context.session.removeValue(forKey: "ballast")
                return json(["ballast": .int(0)])
            }

            // One value per key: concurrent requests setting different keys all survive.
            router.post("/remember") { request, context in
                let key = try parameter(request, "key")
                let value = try parameter(request, "value")
                try await context.session.set(value, for: "note." + key)
                return json(["remembered": .string(key)])
            }
            router.get("/remembered") { _, context in
                var notes = SessionDictionary()
                for (key, value) in try await context.session.data() where key.hasPrefix("note.") {
                    notes[String(key.dropFirst(5))] = value
                }
                return json(["notes": .dictionary(notes)])
            }

            // What the page shows: the session as the server reads it, and the cookies it came in.
            router.get("/info") { request, context in
                let names = request.headers[values: .cookie].flatMap { CookieHeader.parse($0) }
                    .filter { $0.name == "session" || $0.name.hasPrefix("session_") }
                var ballast = 0
                if case .bytes(let bytes)? = try await context.session.value(forKey: "ballast") {
                    ballast = bytes.count
                }
                return json([
                    "mode": .string(mode),
                    "count": .int(Int64(try await context.session.get(Int.self, "count") ?? 0)),
                    "user": try await context.session.user().map(SessionValue.string) ?? .null,
                    "ballast": .int(Int64(ballast)),
                    "cookies": .int(Int64(names.count)),
                    "cookieBytes": .int(Int64(names.reduce(0) { $0 + $1.name.utf8.count + 1 + $1.value.utf8.count })),
                ])
            }
            return router
        }
    }

    /// A JSON response, written by the project's own JSON serializer (Foundation's encoder would
    /// cost more than the session itself).
    func json(_ fields: SessionDictionary) -> Response {
        let bytes = (try? JSONSerializer().serialize(.dictionary(fields)).dropFirst()) ?? []
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// A required query parameter of at most 200 bytes.
    func parameter(_ request: Request, _ name: String) throws -> String {
        guard let value = request.uri.queryParameters[name[...]], !value.isEmpty, value.utf8.count <= 200 else {
            throw HTTPError(.badRequest, message: "this route needs ?\(name)=VALUE (1 to 200 bytes)")
        }
        return String(value)
    }

    func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
#endif
