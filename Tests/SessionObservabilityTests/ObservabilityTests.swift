import Logging
import MetricsTestKit
import SessionObservability
import SessionPipeline
import SessionPipelineTesting
import Synchronization
import Testing

/// Keeps every log line, with its metadata, for inspection.
final class CapturingLogHandler: LogHandler {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
    }
}

extension CapturingLogHandler: @unchecked Sendable {}

struct ObservabilityTests {
    @Test func countsAndLogsWithoutSecrets() async throws {
        let metrics = TestMetrics()
        let handler = CapturingLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let clock = ManualClock()
        let oldKey = SecretKey.random()
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let id = SessionID.random()
        let secretValue = "the-plaintext-\(id.rawValue.prefix(6))"
        // A record sealed under an older key.
        let old = try Pipeline<[UInt8], [UInt8]>().encrypted(with: KeyRing(id: 1, key: oldKey)).store(over: driver)
        try await old.set(.flash(id), to: Record(Array(secretValue.utf8)))

        let keys = try KeyRing(primary: .init(id: 2, key: SecretKey.random()), older: [.init(id: 1, key: oldKey)])
        let store = try Pipeline<[UInt8], [UInt8]>()
            .observed(label: "test-store", logger: logger, metricsFactory: metrics)
            .compressed(.zstd(), threshold: 0, maximumDecompressedSize: 1000)
            .encrypted(with: keys)
            .store(over: driver)

        try await store.set(.session(id), to: Record(Array(secretValue.utf8), expires: clock.now() + .seconds(5)))
        _ = try await store.get(.session(id))
        _ = try await store.get(.flash(id))
        _ = try await store.get(try SessionKey("session:absent-\(id.rawValue)"))
        var tampered = try #require(try await driver.get(.session(id)))
        tampered.value[tampered.value.count - 1] ^= 1
        try await driver.set(try SessionKey("user:victim"), to: tampered)
        await #expect(throws: SessionError.self) { try await store.get(try SessionKey("user:victim")) }
        try await driver.set(try SessionKey("user:bomb"), to: Record(sealedBomb(keys)))
        await #expect(throws: SessionError.self) { try await store.get(try SessionKey("user:bomb")) }
        #expect(try await store.delete(.session(id)))
        try await store.set(.expires(id), to: Record([1], expires: clock.now() + .seconds(1)))
        clock.advance(by: .seconds(1))
        #expect(try await store.deleteExpired() == 1)

        let dimensions = [("store", "test-store")]
        #expect(metrics.counterTotal(label: "session_saves_total", dimensions: dimensions) == 2)
        #expect(metrics.counterTotal(label: "session_loads_total", dimensions: dimensions) == 2)
        #expect(metrics.counterTotal(label: "session_misses_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "session_reseals_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "session_authentication_failures_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "session_oversize_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "session_deletes_total", dimensions: dimensions) == 1)
        #expect(metrics.counterTotal(label: "session_expired_total", dimensions: dimensions) == 1)
        #expect(try metrics.expectTimer("session_read_duration", dimensions).values.count == 5)

        let lines = handler.lines.withLock { $0 }
        #expect(lines.count == 9)
        #expect(lines.contains { $0.hasPrefix("warning") && $0.contains("code=authenticationFailed") })
        for line in lines {
            #expect(!line.contains(id.rawValue), "a session id was logged: \(line)")
            #expect(!line.contains(secretValue), "a value was logged: \(line)")
            #expect(line.contains("store=test-store"))
        }
        #expect(lines.contains { $0.contains("key=session:") })
    }

    /// A compression frame declaring more than the store's limit, sealed so that it decrypts.
    private func sealedBomb(_ keys: KeyRing) -> [UInt8] {
        Encryption(keys: keys).seal([0x12, 0, 0, 0x10, 0], context: "user:bomb", expires: nil)
    }

    @Test func redactionIsStableWithinAProcessAndRevealsNoIdentifier() throws {
        let id = SessionID.random()
        let text = Redaction.describe(.session(id))
        #expect(text == Redaction.describe(.session(id)))
        #expect(text.hasPrefix("session:") && text.count == "session:".count + 12)
        #expect(!text.contains(id.rawValue.prefix(6)))
        #expect(text != Redaction.describe(.session(SessionID.random())))
    }

    @Test func passesTheConformanceSuite() async throws {
        let report = try await StoreConformance.run(options: .init(concurrentTasks: 100, operationsPerTask: 20)) {
            clock in
            try Pipeline<SessionValue, SessionValue>().observed(metricsFactory: TestMetrics())
                .store(over: MemoryDriver<SessionValue>(clock: clock))
        }
        #expect(report.passed.count >= 12)
    }
}
