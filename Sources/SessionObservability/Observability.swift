public import CoreMetrics
public import Logging
public import SessionPipeline

/// A layer that logs (swift-log) and counts (swift-metrics) what passes through it: loads, misses,
/// saves, deletes, expiries, authentication failures, oversize values, records needing a re-seal,
/// and the time reads and writes take. It changes nothing; drop it into any position of any
/// pipeline (at the top it sees what the application sees; just above the driver, what is stored).
///
/// | metric | kind | when |
/// |---|---|---|
/// | `session_loads_total` | counter | a read found a record |
/// | `session_misses_total` | counter | a read found nothing (missing or expired) |
/// | `session_saves_total` | counter | a write or compare-and-swap stored a record |
/// | `session_conflicts_total` | counter | a compare-and-swap lost to another write |
/// | `session_deletes_total` | counter | a delete removed a record |
/// | `session_expired_total` | counter | records removed by delete-expired |
/// | `session_reseals_total` | counter | a read found a record sealed under an older key |
/// | `session_authentication_failures_total` | counter | tampered, foreign or misplaced data |
/// | `session_oversize_total` | counter | a value or frame over a limit |
/// | `session_errors_total` | counter, dimension `code` | any other failure |
/// | `session_read_duration`, `session_write_duration` | timers | every read, every write |
///
/// Every metric carries the dimension `store` with the layer's label.
///
/// **Nothing secret is logged.** Keys appear as their prefix and a 12-digit keyed digest of the
/// identifier (the digest key is random per process, so a log line can be correlated with others
/// of the same process but no identifier can be recovered or guessed from it); values never
/// appear; error messages of the library contain no key material, plaintext or identifiers.
/// Reads, misses and writes log at `debug`; failures at `warning`.
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .observed(label: "sessions")
///     .serialized(.binary)
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
public struct Observability<Value: Sendable>: SessionLayer {
    /// The same values below as above.
    public typealias Below = Value
    /// The same values below as above.
    public typealias Above = Value

    /// The value of the metrics' `store` dimension and of the logs' `store` metadata.
    public let label: String
    /// Where log lines go.
    public let logger: Logger
    /// Where metrics go; `nil` for the process-wide `MetricsSystem`.
    public let metricsFactory: (any MetricsFactory)?

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - label: Names this store in metrics and logs. Default `sessions`.
    ///   - logger: Default `Logger(label: "SessionPipeline")`.
    ///   - metricsFactory: Default the process-wide `MetricsSystem`.
    public init(
        label: String = "sessions",
        logger: Logger = Logger(label: "SessionPipeline"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.label = label
        self.logger = logger
        self.metricsFactory = metricsFactory
    }

    /// `observe:label=sessions`.
    public var name: String { "observe:label=\(ConfigurationText.escape(label))" }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        Observed(base: base, observability: self)
    }
}

/// A store that logs and counts what passes through it; built by ``Observability``.
public struct Observed<Base: RecordStore>: StoreLayer {
    /// The base's keys.
    public typealias Keys = Base.Keys

    /// The store observed.
    public let base: Base
    private let logger: Logger
    private let metrics: Metrics

    /// Creates the layer over `base`.
    public init(base: Base, observability: Observability<Base.Value>) {
        self.base = base
        var logger = observability.logger
        logger[metadataKey: "store"] = "\(observability.label)"
        self.logger = logger
        self.metrics = Metrics(label: observability.label, factory: observability.metricsFactory)
    }

    /// The base's capabilities, unchanged.
    public var capabilities: StoreCapabilities { base.capabilities }

    /// The metric objects, made once.
    private struct Metrics: Sendable {
        let label: String
        let factory: (any MetricsFactory)?
        let loads: Counter
        let misses: Counter
        let saves: Counter
        let conflicts: Counter
        let deletes: Counter
        let expired: Counter
        let reseals: Counter
        let authenticationFailures: Counter
        let oversize: Counter
        let readDuration: Timer
        let writeDuration: Timer

        init(label: String, factory: (any MetricsFactory)?) {
            self.label = label
            self.factory = factory
            let dimensions = [("store", label)]
            func counter(_ name: String) -> Counter {
                factory.map { Counter(label: name, dimensions: dimensions, factory: $0) }
                    ?? Counter(label: name, dimensions: dimensions)
            }
            func timer(_ name: String) -> Timer {
                factory.map { Timer(label: name, dimensions: dimensions, factory: $0) }
                    ?? Timer(label: name, dimensions: dimensions)
            }
            loads = counter("session_loads_total")
            misses = counter("session_misses_total")
            saves = counter("session_saves_total")
            conflicts = counter("session_conflicts_total")
            deletes = counter("session_deletes_total")
            expired = counter("session_expired_total")
            reseals = counter("session_reseals_total")
            authenticationFailures = counter("session_authentication_failures_total")
            oversize = counter("session_oversize_total")
            readDuration = timer("session_read_duration")
            writeDuration = timer("session_write_duration")
        }

        func error(_ code: SessionError.Code) -> Counter {
            let dimensions = [("store", label), ("code", code.description)]
            return factory.map { Counter(label: "session_errors_total", dimensions: dimensions, factory: $0) }
                ?? Counter(label: "session_errors_total", dimensions: dimensions)
        }
    }

    /// Runs `body`, timing it and counting and logging a failure.
    private func observe<T>(
        _ operation: String,
        _ key: SessionKey?,
        timer: Timer?,
        _ body: () async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            timer?.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - start))
            return result
        } catch {
            timer?.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - start))
            record(error, operation: operation, key: key)
            throw error
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    private func record(_ error: any Error, operation: String, key: SessionKey?) {
        var metadata: Logger.Metadata = ["operation": "\(operation)"]
        if let key { metadata["key"] = "\(Redaction.describe(key))" }
        guard let error = error as? SessionError else {
            metrics.error(.io).increment()
            logger.warning("session store operation failed", metadata: metadata)
            return
        }
        switch error.code {
        case .authenticationFailed: metrics.authenticationFailures.increment()
        case .tooLarge: metrics.oversize.increment()
        default: metrics.error(error.code).increment()
        }
        metadata["code"] = "\(error.code)"
        metadata["layer"] = "\(error.layer)"
        metadata["reason"] = "\(error.message)"
        logger.warning("session store operation failed", metadata: metadata)
    }

    /// Reads, counting a load, a miss or a record to re-seal.
    public func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        let record = try await observe("get", key, timer: metrics.readDuration) { try await base.get(key) }
        if let record {
            metrics.loads.increment()
            if record.flags.contains(.needsReseal) {
                metrics.reseals.increment()
                logger.debug(
                    "loaded a record sealed under an older key", metadata: ["key": "\(Redaction.describe(key))"])
            } else {
                logger.debug("loaded", metadata: ["key": "\(Redaction.describe(key))"])
            }
        } else {
            metrics.misses.increment()
            logger.debug("missing or expired", metadata: ["key": "\(Redaction.describe(key))"])
        }
        return record
    }

    /// Writes, counting a save.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        let version = try await observe("set", key, timer: metrics.writeDuration) {
            try await base.set(key, to: record)
        }
        metrics.saves.increment()
        logger.debug("saved", metadata: ["key": "\(Redaction.describe(key))"])
        return version
    }

    /// Compare-and-swap, counting a save or a conflict.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        let version = try await observe("compareAndSwap", key, timer: metrics.writeDuration) {
            try await base.compareAndSwap(key, expecting: expected, with: record)
        }
        if version != nil {
            metrics.saves.increment()
            logger.debug("saved by compare-and-swap", metadata: ["key": "\(Redaction.describe(key))"])
        } else {
            metrics.conflicts.increment()
            logger.debug("compare-and-swap lost to another write", metadata: ["key": "\(Redaction.describe(key))"])
        }
        return version
    }

    /// Deletes, counting a removal.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        let deleted = try await observe("delete", key, timer: metrics.writeDuration) { try await base.delete(key) }
        if deleted {
            metrics.deletes.increment()
            logger.debug("deleted", metadata: ["key": "\(Redaction.describe(key))"])
        }
        return deleted
    }

    /// Touches.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        try await observe("touch", key, timer: metrics.writeDuration) { try await base.touch(key, expires: expires) }
    }

    /// Deletes expired records, counting them.
    public func deleteExpired() async throws -> Int {
        let removed = try await observe("deleteExpired", nil, timer: nil) { try await base.deleteExpired() }
        metrics.expired.increment(by: Int64(removed))
        logger.debug("deleted expired records", metadata: ["count": "\(removed)"])
        return removed
    }
}

extension Pipeline {
    /// Adds an ``Observability`` layer.
    public func observed(
        label: String = "sessions",
        logger: Logger = Logger(label: "SessionPipeline"),
        metricsFactory: (any MetricsFactory)? = nil
    ) -> Pipeline<Top, Bottom> {
        layer(Observability<Bottom>(label: label, logger: logger, metricsFactory: metricsFactory))
    }
}

/// How keys appear in logs: the prefix, and a keyed digest of the identifier.
public enum Redaction {
    private static let key = SecretKey.random()

    /// `session:3fa4c1e2b7d0`: the prefix and 12 hex digits of the identifier's BLAKE2b, keyed with
    /// a key random for each process.
    public static func describe(_ key: SessionKey) -> String {
        let digest = Self.key.withUnsafeBytes { secret in
            key.id.utf8.withUnsafeBytes { Sodium.keyedHash($0, key: secret, outputLength: 16) }
        }
        let digits = Array("0123456789abcdef".utf8)
        var text = Array(key.prefix.rawValue.utf8) + [UInt8(ascii: ":")]
        for byte in digest.prefix(6) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension ConfigurationRegistry {
    /// Adds `observe:label=NAME`, an ``Observability`` layer logging to `logger` and counting with
    /// `metricsFactory` (the process-wide `MetricsSystem` by default), placed just below the cache.
    public mutating func registerObservability(
        logger: Logger = Logger(label: "SessionPipeline"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        register(valueLayer: "observe", order: 20) { component in
            try component.allowArguments(["label"])
            return Observability<SessionValue>(
                label: component.string("label") ?? "sessions",
                logger: logger,
                metricsFactory: metricsFactory
            )
        }
    }
}
