#if Hummingbird
    @testable import CookieSessions
    import Foundation
    import Hummingbird
    import Logging
    import SessionPipeline
    import Synchronization

    /// The demo application running in this process on a free port.
    struct RunningServer: Sendable {
        let port: Int
        let demo: Demo
        private let task: Task<Void, any Error>

        static func start(
            _ mode: DemoOptions.Mode,
            keys: KeyRing = KeyRing(id: 1, key: TestKeys.first),
            logs: LogCapture? = nil,
            clock: any SessionClock = SystemClock(),
            configure: (inout DemoOptions) -> Void = { _ in }
        ) async throws -> RunningServer {
            var options = DemoOptions()
            options.port = 0
            options.mode = mode
            configure(&options)
            var logger = Logger(label: "CookieSessionsTests") { label in
                logs.map { $0 as any LogHandler } ?? SwiftLogNoOpLogHandler(label)
            }
            logger.logLevel = .info
            let demo = try Demo(options: options, logger: logger, keys: keys, clock: clock)
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let app = demo.application { port in
                continuation.yield(port)
                continuation.finish()
            }
            let task = Task { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                throw SessionError(.io, "the server did not start", layer: "tests")
            }
            return RunningServer(port: port, demo: demo, task: task)
        }

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    enum TestKeys {
        static let first = SecretKey.random()
        static let second = SecretKey.random()

        static func text(_ entries: [(UInt32, SecretKey)]) -> String {
            entries.map { id, key in "\(id):" + key.withUnsafeBytes { Data($0).base64EncodedString() } }
                .joined(separator: ",")
        }
    }

    /// Collects log records, to check what the middleware logs (and what it never does).
    final class LogCapture: LogHandler, @unchecked Sendable {
        struct Entry: Sendable {
            var level: Logger.Level
            var message: String
            var metadata: String
        }

        private let entries = Mutex<[Entry]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let rendered = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            entries.withLock { $0.append(Entry(level: event.level, message: "\(event.message)", metadata: rendered)) }
        }

        var all: [Entry] { entries.withLock { $0 } }
    }

    /// The demo as its own process (`CookieSessions` from the products directory), for tests that
    /// need several processes sharing one store.
    final class ServerProcess: @unchecked Sendable {
        let process = Process()
        let port: Int

        init(_ arguments: [String], keys: String) throws {
            process.executableURL = URL(fileURLWithPath: ServerProcess.productsDirectory() + "/CookieSessions")
            process.arguments = arguments + ["--port", "0", "--quiet"]
            var environment = ProcessInfo.processInfo.environment
            environment["SESSION_KEYS"] = keys
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The first line names the port: "... listening on http://127.0.0.1:PORT/".
            var line: [UInt8] = []
            while true {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                guard let first = byte.first else { break }
                if first == UInt8(ascii: "\n") { break }
                line.append(first)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let range = text.range(of: "127.0.0.1:"),
                let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            else {
                process.terminate()
                throw SessionError(.io, "the server printed no port: \(text)", layer: "tests")
            }
            self.port = port
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        /// The directory holding the test binary, where SwiftPM also puts the package's executables.
        static func productsDirectory() -> String {
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        }
    }
#endif
