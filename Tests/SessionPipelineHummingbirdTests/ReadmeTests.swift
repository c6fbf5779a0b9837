#if Hummingbird
    import Hummingbird
    import Serializers
    import SessionPipeline
    import SessionPipelineHummingbird
    import Testing

    /// The README's Hummingbird example, kept compiling and working (with a key made here rather
    /// than read from the environment).
    struct ReadmeHummingbirdTests {
        @Test func theReadmeExampleWorks() async throws {
            let keys = KeyRing(id: 1, key: TestKeys.first)
            let codec = try CookieCodec(
                serializer: .binary,  // MessagePack
                compression: Compression(.zstd()),
                protection: .encrypted(Encryption(keys: keys))  // XChaCha20-Poly1305, cookie name as context
            )
            let sessions = try SessionManager(.client(codec))  // or .server(store), .hybrid(codec, store)

            let router = Router(context: BasicSessionPipelineRequestContext.self)
            router.add(middleware: SessionPipelineMiddleware(sessions))
            router.get("/counter") { _, context -> String in
                let count = (try await context.session.get(Int.self, "count") ?? 0) + 1
                try await context.session.set(count, for: "count")  // saved after the route, only if changed
                return "\(count)"
            }
            router.post("/login") { _, context -> String in
                try await context.session.logIn(user: "alice")  // a new session: new handle, new CSRF secret
                return "welcome"
            }

            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in
                    continuation.yield(channel.localAddress?.port ?? 0)
                    continuation.finish()
                }
            )
            let server = Task { try await app.runService(gracefulShutdownSignals: []) }
            defer { server.cancel() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())

            let jar = CookieJar()
            #expect(try await jar.send("GET", "/counter", port: port).body == "1")
            #expect(try await jar.send("GET", "/counter", port: port).body == "2")
            let before = jar.copy()
            #expect(try await jar.send("POST", "/login", port: port).body == "welcome")
            #expect(try await jar.send("GET", "/counter", port: port).body == "3")
            #expect(try await before.send("GET", "/counter", port: port).body == "3", "no revocation store: documented")
        }
    }
#endif
