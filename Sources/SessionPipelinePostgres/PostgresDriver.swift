#if PostgreSQL
    import Foundation
    public import Logging
    import NIOCore
    public import PostgresNIO
    public import SessionPipeline
    public import ServiceLifecycle
    import Synchronization

    /// A driver for many application servers: records in one PostgreSQL table, shared by every
    /// process that points a driver at it.
    ///
    /// Through postgres-nio's ``PostgresNIO/PostgresClient``, which pools connections and opens new
    /// ones by itself: when the server restarts, requests in flight fail with
    /// ``SessionError/Code/io`` and the next ones are served as soon as it is back. The client must
    /// run (it is a swift-service-lifecycle `Service`): add ``client`` to the application's service
    /// group, or call ``run()``. ``ExpiredSessionSweeper`` deletes expired rows periodically as
    /// another service.
    ///
    /// The table holds key, value (`bytea`), expiry (Unix seconds, `NULL` for never) and version,
    /// with a partial index on the expiry. Writes are upserts; compare-and-swap is one statement
    /// (so the middleware's per-key merge works across servers); delete-expired works in batches
    /// that each lock only their own rows. Time always comes from the injected clock as a query
    /// parameter, never from the server's `now()`. The schema is created on ``migrate()`` under an
    /// advisory lock, so app servers starting together do not race.
    ///
    /// ```swift
    /// let server = PostgresClient.Configuration(
    ///     host: "db", username: "app", password: secret, database: "app", tls: .require(tlsConfiguration))
    /// let driver = try PostgresDriver(configuration: .init(client: server))
    /// let store = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys).driver(driver)
    /// let services = ServiceGroup(services: [driver.client, ExpiredSessionSweeper(driver), app], logger: logger)
    /// try await driver.migrate()  // once the client runs
    /// ```
    public final class PostgresDriver: RecordStore {
        /// The keys, a page at a time.
        public typealias Keys = PagedKeys

        /// The schema version ``migrate()`` creates.
        public static let schemaVersion = 1

        /// Where the server is and how to use it.
        public struct Configuration: Sendable {
            /// The client's settings: host, port, user, password, database, TLS, pool size.
            public var client: PostgresClient.Configuration
            /// The table: ASCII letters, digits and `_`, not starting with a digit.
            public var table: String
            /// Rows removed per statement by ``PostgresDriver/deleteExpired(batchSize:progress:)``.
            public var deleteBatchSize: Int
            /// How long one operation may take, waiting for a connection included, before it fails
            /// with ``SessionError/Code/io``.
            public var operationTimeout: Duration

            /// Creates a configuration.
            public init(
                client: PostgresClient.Configuration, table: String = "sessions", deleteBatchSize: Int = 5000,
                operationTimeout: Duration = .seconds(10)
            ) {
                self.client = client
                self.table = table
                self.deleteBatchSize = deleteBatchSize
                self.operationTimeout = operationTimeout
            }
        }

        /// The connection pool. Run it (``run()``, or as a service) for the driver to work.
        public let client: PostgresClient
        /// The clock expiry is decided with.
        public let clock: any SessionClock
        /// The table, in lower case.
        public let table: String
        /// Rows removed per statement by ``deleteExpired()``.
        public let deleteBatchSize: Int
        /// How long one operation may take, waiting for a connection included; one delete-expired
        /// batch counts as one operation.
        public let operationTimeout: Duration
        private let logger: Logger

        /// Creates a driver with its own connection pool; nothing is sent to the server until the
        /// client runs.
        ///
        /// - Throws: ``SessionError/Code/invalidConfiguration`` for an invalid table name, batch
        ///   size or timeout.
        public convenience init(
            configuration: Configuration,
            clock: any SessionClock = SystemClock(),
            logger: Logger = Logger(label: "session-pipeline.postgres")
        ) throws {
            try self.init(
                client: PostgresClient(configuration: configuration.client, backgroundLogger: logger),
                table: configuration.table, deleteBatchSize: configuration.deleteBatchSize,
                operationTimeout: configuration.operationTimeout, clock: clock, logger: logger)
        }

        /// Creates a driver over an existing connection pool (several tables can share one).
        ///
        /// - Throws: ``SessionError/Code/invalidConfiguration`` for an invalid table name, batch
        ///   size or timeout.
        public init(
            client: PostgresClient,
            table: String = "sessions",
            deleteBatchSize: Int = 5000,
            operationTimeout: Duration = .seconds(10),
            clock: any SessionClock = SystemClock(),
            logger: Logger = Logger(label: "session-pipeline.postgres")
        ) throws {
            try SQLIdentifier.check(table, maximumLength: 48, database: "PostgreSQL", layer: "PostgresDriver")
            guard deleteBatchSize >= 1 else {
                throw SessionError(
                    .invalidConfiguration, "the delete batch size must be at least 1", layer: "PostgresDriver")
            }
            guard operationTimeout > .zero else {
                throw SessionError(
                    .invalidConfiguration, "the operation timeout must be positive", layer: "PostgresDriver")
            }
            self.client = client
            self.table = table.lowercased()
            self.deleteBatchSize = deleteBatchSize
            self.operationTimeout = operationTimeout
            self.clock = clock
            self.logger = logger
        }

        /// Runs the connection pool until the task is cancelled (what a service group does).
        public func run() async {
            await client.run()
        }

        /// What this driver offers: compare-and-swap and traversal of the original keys.
        public var capabilities: StoreCapabilities {
            StoreCapabilities(compareAndSwap: true, traversal: .originalKeys)
        }

        // MARK: Schema

        /// Creates the table and its index when missing, and records the schema version, under a
        /// transaction-scoped advisory lock so that servers starting together do not race.
        ///
        /// - Throws: ``SessionError/Code/unsupported`` when the table was made by a newer schema,
        ///   ``SessionError/Code/io`` when the server cannot be reached.
        public func migrate() async throws {
            let table = self.table
            let logger = self.logger
            try await failing("cannot migrate the session table") { [client] in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockID))", logger: logger)
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS session_pipeline_schema (
                            name text PRIMARY KEY, version integer NOT NULL)
                        """, logger: logger)
                    var current: Int?
                    for try await version in try await connection.query(
                        "SELECT version FROM session_pipeline_schema WHERE name = \(table)", logger: logger
                    ).decode(Int.self) {
                        current = version
                    }
                    if let current, current > Self.schemaVersion {
                        throw SessionError(
                            .unsupported, "the session table has schema \(current), newer than this driver's",
                            layer: "PostgresDriver")
                    }
                    guard current == nil else { return }
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS \(unescaped: table) (
                            key text PRIMARY KEY,
                            value bytea NOT NULL,
                            expires bigint,
                            version bigint NOT NULL)
                        """, logger: logger)
                    try await connection.query(
                        """
                        CREATE INDEX IF NOT EXISTS \(unescaped: table)_expires ON \(unescaped: table) (expires)
                        WHERE expires IS NOT NULL
                        """, logger: logger)
                    try await connection.query(
                        "INSERT INTO session_pipeline_schema (name, version) VALUES (\(table), \(Self.schemaVersion))",
                        logger: logger)
                }
            }
        }

        /// The advisory lock of the migration (an arbitrary constant: "SPsessio").
        private static let lockID: Int64 = 0x5350_7365_7373_696F

        // MARK: Errors

        /// Runs one operation within ``operationTimeout`` and turns what postgres-nio throws into a
        /// ``SessionError`` that says `what` failed, without the query or its values.
        private func failing<T: Sendable>(
            _ what: String, _ body: @escaping @Sendable () async throws -> T
        ) async throws -> T {
            do {
                return try await Deadline.run(
                    body,
                    within: operationTimeout,
                    orFail: SessionError(.io, "\(what) (no answer within \(operationTimeout))", layer: "PostgresDriver")
                )
            } catch let error as SessionError {
                throw error
            } catch let error as PostgresTransactionError {
                // The first failure inside a transaction says what went wrong.
                let cause: (any Error)? = error.closureError ?? error.beginError ?? error.commitError
                if let cause = cause as? SessionError { throw cause }
                if let cause = cause as? PSQLError { throw Self.describe(cause, what) }
                throw SessionError(.io, "\(what) (a transaction failed)", layer: "PostgresDriver")
            } catch let error as PSQLError {
                throw Self.describe(error, what)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw SessionError(.io, "\(what) (\(type(of: error)))", layer: "PostgresDriver")
            }
        }

        /// Runs a statement that changes rows in a transaction of its own and returns whether it
        /// returned a row, once the commit is acknowledged.
        ///
        /// A statement sent alone is committed when the server processes the protocol's `Sync`,
        /// after it has answered "command complete", which is where postgres-nio's query returns:
        /// a server that dies in between loses a write the caller was told succeeded. `COMMIT`
        /// answers only once the commit is durable, so a write acknowledged here survives a crash.
        private func committing(_ query: PostgresQuery) async throws -> Bool {
            let logger = self.logger
            return try await client.withTransaction(logger: logger) { connection in
                var found = false
                for try await _ in try await connection.query(query, logger: logger) { found = true }
                return found
            }
        }

        /// The SQL state and the server's message name the fault; the query, its values and the
        /// message's detail (which can quote a row) are left out.
        private static func describe(_ error: PSQLError, _ what: String) -> SessionError {
            var reason = "\(error.code)"
            if let state = error.serverInfo?[.sqlState] { reason += ", SQL state \(state)" }
            if let message = error.serverInfo?[.message] { reason += ": \(message)" }
            return SessionError(.io, "\(what) (PostgreSQL: \(reason))", layer: "PostgresDriver")
        }

        private static func newVersion() -> Int64 { Int64.random(in: 1...Int64.max) }

        private static func version(_ raw: Int64) -> RecordVersion { RecordVersion(rawValue: UInt64(bitPattern: raw)) }

        // MARK: RecordStore

        /// The live record under `key`, or `nil`.
        public func get(_ key: SessionKey) async throws -> SessionPipeline.Record<[UInt8]>? {
            let now = clock.now().seconds
            return try await failing("cannot read a session") { [client, table, logger] in
                let rows = try await client.query(
                    """
                    SELECT value, expires, version FROM \(unescaped: table)
                    WHERE key = \(key.rawValue) AND (expires IS NULL OR expires > \(now))
                    """, logger: logger)
                for try await (value, expires, version) in rows.decode((ByteBuffer, Int64?, Int64).self) {
                    return SessionPipeline.Record(
                        Array(value.readableBytesView), expires: expires.map(UnixTime.init(seconds:)),
                        version: Self.version(version))
                }
                return nil
            }
        }

        /// Stores `record` under `key` (an upsert).
        @discardableResult
        public func set(_ key: SessionKey, to record: SessionPipeline.Record<[UInt8]>) async throws -> RecordVersion? {
            let version = Self.newVersion()
            let value = ByteBuffer(bytes: record.value)
            let expires = record.expires?.seconds
            let query: PostgresQuery = """
                INSERT INTO \(unescaped: table) (key, value, expires, version)
                VALUES (\(key.rawValue), \(value), \(expires), \(version))
                ON CONFLICT (key) DO UPDATE
                SET value = EXCLUDED.value, expires = EXCLUDED.expires, version = EXCLUDED.version
                """
            _ = try await failing("cannot write a session") { [self] in try await committing(query) }
            return Self.version(version)
        }

        /// Removes `key`; whether a row was there.
        @discardableResult
        public func delete(_ key: SessionKey) async throws -> Bool {
            let query: PostgresQuery = "DELETE FROM \(unescaped: table) WHERE key = \(key.rawValue) RETURNING 1"
            return try await failing("cannot delete a session") { [self] in try await committing(query) }
        }

        /// Changes the expiry of the live record under `key`; its value and version stay.
        @discardableResult
        public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
            let now = clock.now().seconds
            let newExpiry = expires?.seconds
            let query: PostgresQuery = """
                UPDATE \(unescaped: table) SET expires = \(newExpiry)
                WHERE key = \(key.rawValue) AND (expires IS NULL OR expires > \(now)) RETURNING 1
                """
            return try await failing("cannot touch a session") { [self] in try await committing(query) }
        }

        /// Stores `record` only if the live record under `key` has version `expected` (`nil`: only if
        /// there is no live record): one statement, atomic on the server.
        public func compareAndSwap(
            _ key: SessionKey,
            expecting expected: RecordVersion?,
            with record: SessionPipeline.Record<[UInt8]>
        ) async throws -> RecordVersion? {
            let now = clock.now().seconds
            let version = Self.newVersion()
            let value = ByteBuffer(bytes: record.value)
            let expires = record.expires?.seconds
            let query: PostgresQuery
            if let expected {
                let old = Int64(bitPattern: expected.rawValue)
                query = """
                    UPDATE \(unescaped: table) SET value = \(value), expires = \(expires), version = \(version)
                    WHERE key = \(key.rawValue) AND version = \(old) AND (expires IS NULL OR expires > \(now))
                    RETURNING 1
                    """
            } else {
                // Inserts, or replaces a row that has expired; a live row stays and nothing returns.
                query = """
                    INSERT INTO \(unescaped: table) AS current (key, value, expires, version)
                    VALUES (\(key.rawValue), \(value), \(expires), \(version))
                    ON CONFLICT (key) DO UPDATE
                    SET value = EXCLUDED.value, expires = EXCLUDED.expires, version = EXCLUDED.version
                    WHERE current.expires IS NOT NULL AND current.expires <= \(now)
                    RETURNING 1
                    """
            }
            let swapped = try await failing("cannot write a session") { [self] in try await committing(query) }
            return swapped ? Self.version(version) : nil
        }

        /// Removes every expired record, a batch per statement.
        public func deleteExpired() async throws -> Int {
            try await deleteExpired(batchSize: deleteBatchSize, progress: nil)
        }

        /// Removes every record expired at the clock's current time, `batchSize` rows per statement;
        /// each statement locks only the rows it deletes (`FOR UPDATE SKIP LOCKED`), so sessions in
        /// use are never blocked for long. `progress` is called after each batch with the rows removed
        /// so far and the number expired at the start.
        ///
        /// - Returns: how many rows were removed.
        public func deleteExpired(
            batchSize: Int,
            progress: (@Sendable (_ removed: Int, _ total: Int) -> Void)?
        ) async throws -> Int {
            precondition(batchSize >= 1, "the batch size must be at least 1")
            let now = clock.now().seconds
            let limit = Int64(batchSize)
            let total = try await failing("cannot delete expired sessions") { [self] in
                try await integer(
                    "SELECT count(*) FROM \(unescaped: table) WHERE expires IS NOT NULL AND expires <= \(now)")
            }
            let batchQuery: PostgresQuery = """
                WITH doomed AS (
                    SELECT key FROM \(unescaped: table) WHERE expires IS NOT NULL AND expires <= \(now)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                deleted AS (DELETE FROM \(unescaped: table) WHERE key IN (SELECT key FROM doomed) RETURNING 1)
                SELECT count(*) FROM deleted
                """
            var removed = 0
            while true {
                // Each batch is an operation of its own, with its own deadline and commit.
                let batch = try await failing("cannot delete expired sessions") { [client, logger] in
                    try await client.withTransaction(logger: logger) { connection in
                        var count = 0
                        for try await deleted in try await connection.query(batchQuery, logger: logger).decode(
                            Int64.self)
                        {
                            count = Int(deleted)
                        }
                        return count
                    }
                }
                removed += batch
                if batch > 0 { progress?(removed, max(total, removed)) }
                if batch < batchSize { return removed }
            }
        }

        /// The live keys, read a page at a time in key order.
        public func keys() -> PagedKeys {
            let now = clock.now()
            return PagedKeys(layer: "PostgresDriver") { [self] after, limit in
                try await page(after: after, now: now, limit: limit)
            }
        }

        /// Up to `limit` live keys after `after`, in byte order.
        private func page(after: String?, now: UnixTime, limit: Int) async throws -> [String] {
            let seconds = now.seconds
            let start = after ?? ""
            let count = Int64(limit)
            return try await failing("cannot list sessions") { [client, table, logger] in
                var keys: [String] = []
                for try await key in try await client.query(
                    """
                    SELECT key FROM \(unescaped: table)
                    WHERE key COLLATE "C" > \(start) AND (expires IS NULL OR expires > \(seconds))
                    ORDER BY key COLLATE "C" LIMIT \(count)
                    """, logger: logger
                ).decode(String.self) {
                    keys.append(key)
                }
                return keys
            }
        }

        /// The number of rows, expired or not (for tests and statistics).
        public func count() async throws -> Int {
            try await failing("cannot count sessions") { [self] in
                try await integer("SELECT count(*) FROM \(unescaped: table)")
            }
        }

        /// The integer a one-row, one-column query returns (0 when it returns none).
        private func integer(_ query: PostgresQuery) async throws -> Int {
            var value = 0
            for try await count in try await client.query(query, logger: logger).decode(Int64.self) {
                value = Int(count)
            }
            return value
        }
    }

    /// Runs an operation with a deadline that holds even when the operation does not react to
    /// cancellation: the caller is answered at the deadline, and the operation, cancelled, is left
    /// to finish on its own. (A task group would wait for it, and a postgres-nio request stuck on a
    /// connection that never answers would hold the caller for as long.)
    private final class Deadline<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var result: Result<T, any Error>?
            var tasks: [Task<Void, Never>] = []
        }

        private let state = Mutex(State())

        static func run(
            _ body: @escaping @Sendable () async throws -> T, within timeout: Duration, orFail error: SessionError
        ) async throws -> T {
            let deadline = Deadline()
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    deadline.wait(continuation)
                    deadline.add(
                        Task {
                            do {
                                deadline.finish(.success(try await body()))
                            } catch {
                                deadline.finish(.failure(error))
                            }
                        })
                    deadline.add(
                        Task {
                            do {
                                try await Task.sleep(for: timeout)
                                deadline.finish(.failure(error))
                            } catch {
                                // Cancelled: the operation finished first.
                            }
                        })
                }
            } onCancel: {
                deadline.finish(.failure(CancellationError()))
            }
        }

        private func wait(_ continuation: CheckedContinuation<T, any Error>) {
            let finished = state.withLock { state in
                if state.result == nil { state.continuation = continuation }
                return state.result
            }
            if let finished { continuation.resume(with: finished) }
        }

        private func add(_ task: Task<Void, Never>) {
            let finished = state.withLock { state in
                if state.result == nil { state.tasks.append(task) }
                return state.result != nil
            }
            if finished { task.cancel() }
        }

        /// The first outcome wins: it answers the caller and cancels whatever still runs.
        private func finish(_ result: Result<T, any Error>) {
            let (continuation, tasks) = state.withLock {
                state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
                guard state.result == nil else { return (nil, []) }
                state.result = result
                defer {
                    state.continuation = nil
                    state.tasks = []
                }
                return (state.continuation, state.tasks)
            }
            for task in tasks { task.cancel() }
            continuation?.resume(with: result)
        }
    }

    /// A service that deletes a store's expired sessions every ``interval`` until the service group
    /// shuts down; a failed sweep is logged and tried again at the next interval. Works with any
    /// store (``PostgresDriver`` deletes in batches).
    public struct ExpiredSessionSweeper<Store: RecordStore>: Service {
        /// The store swept.
        public let store: Store
        /// The time between sweeps.
        public let interval: Duration
        private let logger: Logger

        /// Creates a sweeper.
        public init(
            _ store: Store, interval: Duration = .seconds(300),
            logger: Logger = Logger(label: "session-pipeline.sweeper")
        ) {
            self.store = store
            self.interval = interval
            self.logger = logger
        }

        /// Sweeps every ``interval`` until cancelled or asked to shut down gracefully.
        public func run() async throws {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                try await sweep()
            }
        }

        /// One sweep: deletes what has expired, logging a failure instead of throwing it.
        ///
        /// - Returns: the number of sessions removed, `nil` when the sweep failed.
        @discardableResult
        public func sweep() async throws -> Int? {
            do {
                let removed = try await store.deleteExpired()
                logger.debug("expired sessions deleted", metadata: ["sessions.removed": "\(removed)"])
                return removed
            } catch let error as SessionError {
                logger.warning("expired sessions could not be deleted", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }
    extension ConfigurationRegistry {
        /// Adds `driver:postgres`: `host=NAME` (required), `port=N` (5432), `user=NAME` (required),
        /// `database=NAME` (the user's name), `password-env=VARIABLE` or `password-file=PATH` (never
        /// the password itself), `tls=disable|require` (`require`), `table=NAME` (`sessions`),
        /// `timeout=SECONDS` (10, per operation), `batch=N` (5000 rows per delete-expired statement).
        ///
        /// A driver built from a configuration string runs its own connection pool for the rest of
        /// the process, which suits tools (`sessionctl`) and small programs; an application with a
        /// service group builds ``PostgresDriver`` in code and runs its ``PostgresDriver/client`` there.
        /// Call ``PostgresDriver/migrate()`` before first use when the table may not exist yet.
        public mutating func registerPostgres(logger: Logger = Logger(label: "session-pipeline.postgres")) {
            register(driver: "postgres") { component, clock in
                try component.allowArguments([
                    "host", "port", "user", "database", "password-env", "password-file", "tls", "table", "timeout",
                    "batch",
                ])
                let user = try component.requiredString("user")
                var password: String?
                if let name = component.string("password-env") {
                    guard let value = ProcessInfo.processInfo.environment[name] else {
                        throw component.error("password-env names \(name), which is not set")
                    }
                    password = value
                } else if let path = component.string("password-file") {
                    do {
                        password = try String(contentsOfFile: path, encoding: .utf8)
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                    } catch {
                        throw component.error("password-file cannot be read")
                    }
                }
                let tls: PostgresClient.Configuration.TLS
                switch component.string("tls") {
                case nil, "require": tls = .require(.makeClientConfiguration())
                case "disable": tls = .disable
                default: throw component.error("tls is require or disable")
                }
                var client = PostgresClient.Configuration(
                    host: try component.requiredString("host"),
                    port: try component.integer("port", in: 1...65535) ?? 5432,
                    username: user, password: password, database: component.string("database") ?? user, tls: tls)
                client.options.maximumConnections = 4
                let pool = PostgresClient(configuration: client, backgroundLogger: logger)
                let driver = try PostgresDriver(
                    client: pool, table: component.string("table") ?? "sessions",
                    deleteBatchSize: try component.integer("batch", in: 1...1_000_000) ?? 5000,
                    operationTimeout: .seconds(try component.integer("timeout", in: 1...3600) ?? 10), clock: clock,
                    logger: logger)
                Task { await pool.run() }
                return AnyRecordStore(driver)
            }
        }
    }

#endif
