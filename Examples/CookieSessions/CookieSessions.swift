// A Hummingbird server with encrypted sessions, in client, server or hybrid mode.
//
//   swift run CookieSessions --port 8080 --mode client
//
// Then open http://127.0.0.1:8080/ or try it with curl:
//
//   curl -c jar -b jar http://127.0.0.1:8080/counter          # {"count":1}, then 2, 3, …
//   curl -c jar -b jar -X POST 'http://127.0.0.1:8080/login?user=alice'
//   curl -c jar -b jar http://127.0.0.1:8080/whoami           # {"user":"alice"}
//
// Keys come from SESSION_KEYS (`ID:BASE64` entries, primary first); without it the server makes
// an ephemeral key and says so. `--store DIR` keeps server-side sessions in files under DIR
// (shared by every process started with the same DIR and keys); without it they live in memory.

#if Hummingbird
    import Hummingbird
    import Logging
    import SessionPipeline

    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    @main
    struct CookieSessions {
        static func main() async {
            let options: DemoOptions
            do {
                options = try DemoOptions.parse(Array(CommandLine.arguments.dropFirst()))
            } catch {
                printError(error.message)
                printError(DemoOptions.usage)
                exit(2)
            }
            // A configuration the server cannot run with (keys that do not parse, a port in use, a
            // store directory it cannot write) ends it with the reason and status 1, not a crash.
            do {
                try await run(options)
            } catch {
                printError("CookieSessions: \(error)")
                exit(1)
            }
        }

        static func run(_ options: DemoOptions) async throws {
            var logger = Logger(label: "CookieSessions")
            logger.logLevel = options.logLevel
            let demo = try Demo(options: options, logger: logger)
            if let path = options.sealSessionPath {
                writeLine(try await demo.cookieHeader(forSessionIn: path), to: STDOUT_FILENO)
                return
            }
            if let path = options.preloadPath, let output = options.preloadCookiesPath {
                try await demo.preload(options.preloadCount, sessionsFrom: path, cookiesTo: output)
            }
            let app = demo.application { port in
                writeLine(
                    "CookieSessions (\(options.mode) mode) listening on http://127.0.0.1:\(port)/", to: STDOUT_FILENO)
            }
            try await app.runService()
        }
    }
#else
    @main
    struct CookieSessions {
        static func main() {
            print("CookieSessions needs the Hummingbird trait: swift run --traits Hummingbird CookieSessions")
        }
    }
#endif
