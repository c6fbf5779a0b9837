#if Hummingbird
    import Logging

    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// The command line of the demo server.
    struct DemoOptions: Sendable {
        /// Where sessions live.
        enum Mode: String, Sendable, CaseIterable {
            case client, server, hybrid
        }

        /// A command line that cannot be used.
        struct UsageError: Error {
            var message: String
        }

        var port = 8080
        var mode = Mode.client
        /// A directory for the file store; `nil` keeps server-side state in memory.
        var storePath: String?
        /// Idle and absolute lifetimes in seconds.
        var idleSeconds = 30 * 60
        var absoluteSeconds = 12 * 60 * 60
        /// Cookies without `Secure`, for browsers that refuse secure cookies over plain HTTP.
        var insecureCookies = false
        var logLevel = Logger.Level.info
        /// Print the `Cookie` header of a session holding this JSON file's object, and exit (for
        /// benchmarks: client mode, with the keys from `SESSION_KEYS`).
        var sealSessionPath: String?
        /// Before listening, create `preloadCount` sessions holding this JSON file's object and
        /// write their `Cookie` headers, one per line, to `preloadCookiesPath` (for benchmarks of
        /// server mode, where a session must exist in the store the server uses).
        var preloadPath: String?
        var preloadCount = 1000
        var preloadCookiesPath: String?

        static let usage = """
            usage: CookieSessions [--port P] [--mode client|server|hybrid] [--store DIR]
                                  [--idle SECONDS] [--absolute SECONDS] [--insecure-cookies] [--quiet]
                                  [--seal-session JSON-FILE]
                                  [--preload JSON-FILE --preload-cookies OUT-FILE [--preload-count N]]
            """

        static func parse(_ arguments: [String]) throws(UsageError) -> DemoOptions {
            var options = DemoOptions()
            var rest = arguments[...]
            func value(for flag: String) throws(UsageError) -> String {
                guard let value = rest.popFirst() else { throw UsageError(message: "\(flag) needs a value") }
                return value
            }
            func seconds(for flag: String) throws(UsageError) -> Int {
                guard let seconds = Int(try value(for: flag)), seconds > 0 else {
                    throw UsageError(message: "\(flag) needs a positive number of seconds")
                }
                return seconds
            }
            while let flag = rest.popFirst() {
                switch flag {
                case "--port":
                    guard let port = Int(try value(for: flag)), (0...65535).contains(port) else {
                        throw UsageError(message: "--port needs a port number (0 picks a free one)")
                    }
                    options.port = port
                case "--mode":
                    let name = try value(for: flag)
                    guard let mode = Mode(rawValue: name) else {
                        throw UsageError(message: "--mode is client, server or hybrid, not '\(name)'")
                    }
                    options.mode = mode
                case "--store": options.storePath = try value(for: flag)
                case "--idle": options.idleSeconds = try seconds(for: flag)
                case "--absolute": options.absoluteSeconds = try seconds(for: flag)
                case "--insecure-cookies": options.insecureCookies = true
                case "--quiet": options.logLevel = .warning
                case "--seal-session": options.sealSessionPath = try value(for: flag)
                case "--preload": options.preloadPath = try value(for: flag)
                case "--preload-cookies": options.preloadCookiesPath = try value(for: flag)
                case "--preload-count":
                    guard let count = Int(try value(for: flag)), count > 0 else {
                        throw UsageError(message: "--preload-count needs a positive number")
                    }
                    options.preloadCount = count
                case "--help", "-h":
                    print(usage)
                    exit(0)
                default: throw UsageError(message: "unknown option '\(flag)'")
                }
            }
            if (options.preloadPath == nil) != (options.preloadCookiesPath == nil) {
                throw UsageError(message: "--preload and --preload-cookies go together")
            }
            return options
        }
    }

    /// Writes a line to standard error.
    func printError(_ message: String) {
        writeLine(message, to: STDERR_FILENO)
    }

    /// Writes a line straight to a file descriptor: no buffering, so a process reading the
    /// output (a test waiting for the port) sees it at once.
    func writeLine(_ text: String, to descriptor: Int32) {
        let bytes = Array((text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result <= 0 { return }
            written += result
        }
    }
#endif
