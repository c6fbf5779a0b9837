#if Hummingbird
    @testable import CookieSessions
    import Foundation
    import Hummingbird
    import Logging
    import SessionPipeline
    import SessionPipelineHummingbird
    import Testing

    /// The example server over real HTTP: a real Hummingbird server on a loopback port, a socket
    /// client, a cookie jar.
    @Suite(.timeLimit(.minutes(5)))
    struct EndToEndTests {
        static let modes = DemoOptions.Mode.allCases

        func count(_ jar: CookieJar, port: Int) async throws -> Int64? {
            let response = try await jar.send("GET", "/counter", port: port)
            #expect(response.status == 200)
            guard case .int(let count)? = try response.json()["count"] else { return nil }
            return count
        }

        @Test(arguments: modes)
        func theCounterCountsAndATamperedCookieStartsOver(_ mode: DemoOptions.Mode) async throws {
            let logs = LogCapture()
            let server = try await RunningServer.start(mode, logs: logs)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            var setCookies: [String] = []
            for expected in Int64(1)...3 {
                let response = try await jar.send("GET", "/counter", port: server.port)
                #expect(try response.json() == ["count": .int(expected)])
                setCookies += response.setCookies
            }
            #expect(!setCookies.isEmpty)
            for header in setCookies {
                #expect(header.utf8.count <= 4096)
                #expect(header.contains("; Path=/"))
                #expect(header.contains("; Secure"))
                #expect(header.contains("; HttpOnly"))
                #expect(header.contains("; SameSite=Lax"))
                #expect(header.contains("; Max-Age=1800"))
            }

            // Flip one character of the cookie: a fresh session, status 200, never a 500.
            let cookie = try #require(jar.value("session"))
            var characters = Array(cookie)
            let index = characters.count / 2
            characters[index] = characters[index] == "x" ? "y" : "x"
            jar.set("session", String(characters))
            let tampered = try await jar.send("GET", "/counter", port: server.port)
            #expect(tampered.status == 200)
            #expect(try tampered.json() == ["count": 1])
            #expect(try await count(jar, port: server.port) == 2)

            // Logged with the reason, never with the cookie.
            let ignored = logs.all.filter { $0.message == "session cookie ignored" }
            #expect(ignored.count == 1)
            #expect(ignored.allSatisfy { $0.level == .notice })
            #expect(logs.all.allSatisfy { !$0.metadata.contains(String(characters)) && !$0.metadata.contains(cookie) })
        }

        @Test(arguments: modes)
        func aRouteThatNeverTouchesTheSessionSetsNothing(_ mode: DemoOptions.Mode) async throws {
            let server = try await RunningServer.start(mode)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            _ = try await count(jar, port: server.port)
            let plain = try await jar.send("GET", "/plain", port: server.port)
            #expect(plain.status == 200)
            #expect(plain.body == "ok")
            #expect(plain.setCookies.isEmpty)
            #expect(plain.values("Vary").isEmpty)
            let counted = try await jar.send("GET", "/counter", port: server.port)
            #expect(counted.values("Vary") == ["Cookie"])
            #expect(counted.values("Cache-Control") == ["private"])
        }

        @Test(arguments: modes)
        func loginRegeneratesTheSessionAndTheOldCookieIsDead(_ mode: DemoOptions.Mode) async throws {
            let server = try await RunningServer.start(mode)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            _ = try await count(jar, port: server.port)
            _ = try await count(jar, port: server.port)
            let before = jar.copy()
            let login = try await jar.send("POST", "/login?user=alice", port: server.port)
            #expect(login.status == 200)
            #expect(try login.json() == ["user": "alice"])
            #expect(jar.value("session") != before.value("session"))
            #expect(try await jar.send("GET", "/whoami", port: server.port).json() == ["user": "alice"])
            #expect(try await count(jar, port: server.port) == 3, "the data carries over the login")
            // The cookie from before the login opens nothing any more.
            #expect(try await count(before, port: server.port) == 1)

            let logout = try await jar.send("POST", "/logout", port: server.port)
            #expect(logout.setCookies.allSatisfy { $0.contains("Max-Age=0") })
            #expect(jar.names.isEmpty)
            #expect(try await jar.send("GET", "/whoami", port: server.port).json() == ["user": .null])
        }

        @Test(arguments: modes)
        func logoutEverywhereEndsEverySessionOfTheUser(_ mode: DemoOptions.Mode) async throws {
            let server = try await RunningServer.start(mode)
            defer { Task { await server.stop() } }
            let laptop = CookieJar()
            let phone = CookieJar()
            for jar in [laptop, phone] {
                try await jar.send("POST", "/login?user=alice", port: server.port)
            }
            let response = try await laptop.send("POST", "/logout-everywhere", port: server.port)
            #expect(try response.json() == ["revoked": 2])
            #expect(try await phone.send("GET", "/whoami", port: server.port).json() == ["user": .null])
        }

        @Test(arguments: modes)
        func flashMessagesAreReadOnce(_ mode: DemoOptions.Mode) async throws {
            let server = try await RunningServer.start(mode)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            #expect(try await jar.send("POST", "/flash?message=saved", port: server.port).status == 200)
            #expect(try await jar.send("POST", "/flash?message=again%21", port: server.port).status == 200)
            #expect(try await jar.send("GET", "/flash", port: server.port).json() == ["messages": ["saved", "again!"]])
            #expect(try await jar.send("GET", "/flash", port: server.port).json() == ["messages": []])
        }

        @Test func rotatingKeysKeepsTheUserLoggedIn() async throws {
            let jar = CookieJar()
            let old = KeyRing(id: 1, key: TestKeys.first)
            let rotated = try KeyRing(
                primary: .init(id: 2, key: TestKeys.second), older: [.init(id: 1, key: TestKeys.first)])
            let newOnly = KeyRing(id: 2, key: TestKeys.second)

            let before = try await RunningServer.start(.client, keys: old)
            try await jar.send("POST", "/login?user=alice", port: before.port)
            await before.stop()

            let during = try await RunningServer.start(.client, keys: rotated)
            let sealedUnderOld = jar.value("session")
            let whoami = try await jar.send("GET", "/whoami", port: during.port)
            #expect(try whoami.json() == ["user": "alice"])
            #expect(whoami.setCookies.count == 1, "an old-key cookie is re-sealed on the next response")
            #expect(jar.value("session") != sealedUnderOld)
            await during.stop()

            let after = try await RunningServer.start(.client, keys: newOnly)
            defer { Task { await after.stop() } }
            #expect(try await jar.send("GET", "/whoami", port: after.port).json() == ["user": "alice"])
        }

        @Test func aTwentyKilobyteSessionIsChunkedAndTheChunksAreClearedWhenItShrinks() async throws {
            let server = try await RunningServer.start(.client)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            #expect(try await count(jar, port: server.port) == 1)
            let grow = try await jar.send("POST", "/grow?bytes=20000", port: server.port)
            #expect(try grow.json() == ["ballast": 20000])
            #expect(grow.setCookies.count == 7)
            #expect(grow.setCookies.allSatisfy { $0.utf8.count <= 4096 })
            #expect(jar.names == ["session"] + (1..<7).map { "session_\($0)" })
            let info = try await jar.send("GET", "/info", port: server.port).json()
            #expect(info["ballast"] == 20000)
            #expect(info["cookies"] == 7)

            let shrink = try await jar.send("POST", "/shrink", port: server.port)
            #expect(shrink.setCookies.filter { $0.contains("Max-Age=0") }.count == 6)
            #expect(jar.names == ["session"])
            let after = try await jar.send("GET", "/info", port: server.port).json()
            #expect(after["ballast"] == 0)
            #expect(after["cookies"] == 1)
            #expect(after["count"] == 1)
        }

        @Test func hybridModeCarriesALargeSessionInTheStore() async throws {
            let server = try await RunningServer.start(.hybrid)
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            try await jar.send("POST", "/grow?bytes=40000", port: server.port)
            #expect(jar.names == ["session"])
            #expect(try await jar.send("GET", "/info", port: server.port).json()["ballast"] == 40000)
            try await jar.send("POST", "/shrink", port: server.port)
            #expect(try await count(jar, port: server.port) == 1)
        }

        @Test(arguments: modes)
        func sessionsExpireWhenIdleAndAtTheirAbsoluteLimit(_ mode: DemoOptions.Mode) async throws {
            // The server's clock is a manual one, so the test moves time instead of sleeping.
            let clock = ManualClock()
            let server = try await RunningServer.start(mode, clock: clock) {
                $0.idleSeconds = 600
                $0.absoluteSeconds = 3600
            }
            defer { Task { await server.stop() } }
            let jar = CookieJar()
            #expect(try await count(jar, port: server.port) == 1)
            clock.advance(by: .seconds(599))
            #expect(try await count(jar, port: server.port) == 2)
            clock.advance(by: .seconds(600))
            let expired = try await jar.send("GET", "/counter", port: server.port)
            #expect(expired.status == 200)
            #expect(try expired.json() == ["count": 1], "idle for 600 seconds: a new session")

            // Busy, but past the absolute limit: over all the same.
            for expected in Int64(2)...12 {
                clock.advance(by: .seconds(300))
                #expect(try await count(jar, port: server.port) == expected)
            }
            clock.advance(by: .seconds(300))
            let info = try await jar.send("GET", "/info", port: server.port).json()
            #expect(info["count"] == 0, "3600 seconds after its start the session is over")
        }

        @Test func testHelpersStartARequestWithAGivenSession() async throws {
            let server = try await RunningServer.start(.server)
            defer { Task { await server.stop() } }
            let sessions = server.demo.sessions
            let headers = try await sessions.requestHeaders(data: ["count": 41], user: "alice")
            let response = try await HTTPClient.send("GET", "/counter", port: server.port, cookie: headers[.cookie])
            #expect(try response.json() == ["count": 42])
            let jar = CookieJar()
            jar.set("session", String(try #require(headers[.cookie]).dropFirst("session=".count)))
            #expect(try await jar.send("GET", "/whoami", port: server.port).json() == ["user": "alice"])
        }

        /// Keys that do not parse, set or empty, end the server with the reason and status 1: no
        /// crash report, no ephemeral key in their place, and not the key text in the message.
        @Test(arguments: ["1:c2VjcmV0LWtleQ", "", "not-a-key-list"])
        func keysThatDoNotParseEndTheServerWithAClearMessage(_ keys: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServerProcess.productsDirectory() + "/CookieSessions")
            process.arguments = ["--port", "0", "--mode", "client"]
            var environment = ProcessInfo.processInfo.environment
            environment["SESSION_KEYS"] = keys
            process.environment = environment
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            // A server that took the keys would listen until stopped: stopped after 30 s, it fails
            // the checks below (a signal, not status 1) instead of hanging the test.
            let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            watchdog.cancel()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 1)
            #expect(message.hasPrefix("CookieSessions: "), "\(message)")
            #expect(message.contains("SESSION_KEYS"), "\(message)")
            #expect(!message.contains("crashed") && !message.contains("Fatal error"), "\(message)")
            #expect(!printed.contains("listening"), "\(printed)")
            if !keys.isEmpty {
                #expect(!message.contains(keys.split(separator: ":").last!), "the key text is in: \(message)")
            }
        }

        @Test func requestsOnOneSessionAcrossTwoProcessesLoseNothing() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cookie-sessions-\(UUID())")
                .path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let keys = TestKeys.text([(1, TestKeys.first)])
            let first = try ServerProcess(["--mode", "server", "--store", directory], keys: keys)
            defer { first.stop() }
            let second = try ServerProcess(["--mode", "server", "--store", directory], keys: keys)
            defer { second.stop() }
            let jar = CookieJar()
            #expect(try await count(jar, port: first.port) == 1)
            let cookie = jar.header
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let port = index.isMultiple(of: 2) ? first.port : second.port
                        let response = try await HTTPClient.send(
                            "POST", "/remember?key=k\(index)&value=v\(index)", port: port, cookie: cookie)
                        return response.status
                    }
                }
                for try await status in group { #expect(status == 200) }
            }
            let notes = try await jar.send("GET", "/remembered", port: second.port).json()
            guard case .dictionary(let remembered)? = notes["notes"] else {
                Issue.record("no notes: \(notes)")
                return
            }
            #expect(remembered.count == 200)
            #expect((0..<200).allSatisfy { remembered["k\($0)"] == .string("v\($0)") })
            #expect(try await count(jar, port: first.port) == 2)
        }
    }
#endif
