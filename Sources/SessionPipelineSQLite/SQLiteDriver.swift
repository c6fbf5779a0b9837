#if SQLite
    import Foundation
    import GRDB
    public import SessionPipeline

    /// A durable driver for one machine: records in an SQLite database (through GRDB), in WAL mode,
    /// shared safely by every task of a process and by several processes on the same file.
    ///
    /// The table holds a key, the value's bytes, the expiry (Unix seconds, `NULL` for never) and a
    /// version for compare-and-swap, with an index on the expiry. Writes are upserts; expiry is
    /// decided with the injected clock, never SQLite's own time; ``deleteExpired(batchSize:progress:)``
    /// removes expired rows a batch per transaction, so the write lock is never held for long; and
    /// ``keys()`` pages through the keys without loading values. The schema is created and versioned
    /// on first use (``schemaVersion``).
    ///
    /// ```swift
    /// let driver = try SQLiteDriver(path: "/var/lib/app/sessions.sqlite")
    /// let store = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys).driver(driver)
    /// ```
    public final class SQLiteDriver: RecordStore {
        /// The keys, a page at a time.
        public typealias Keys = PagedKeys

        /// The schema version this driver creates and reads.
        public static let schemaVersion = 1

        /// Settings of an SQLite driver.
        public struct Configuration: Sendable {
            /// How hard a commit works to survive a power failure.
            public enum Durability: Sendable {
                /// `synchronous=NORMAL`: in WAL mode a commit survives the process crashing; the last
                /// commits before a power failure may be lost. SQLite's recommendation for WAL.
                case normal
                /// `synchronous=FULL`: every commit is on disk before it returns.
                case full
            }

            /// The table's name: ASCII letters, digits and `_`, not starting with a digit.
            public var table: String
            /// Commit durability. Default ``Durability/normal``.
            public var durability: Durability
            /// How long a write waits for another process's write lock before failing. Default 5 s.
            public var busyTimeout: Duration
            /// Rows removed per transaction by ``SQLiteDriver/deleteExpired(batchSize:progress:)``.
            public var deleteBatchSize: Int

            /// Creates a configuration.
            public init(
                table: String = "sessions",
                durability: Durability = .normal,
                busyTimeout: Duration = .seconds(5),
                deleteBatchSize: Int = 1000
            ) {
                self.table = table
                self.durability = durability
                self.busyTimeout = busyTimeout
                self.deleteBatchSize = deleteBatchSize
            }
        }

        /// The clock expiry is decided with.
        public let clock: any SessionClock
        /// The driver's settings.
        public let configuration: Configuration
        /// The database file.
        public let path: String
        private let pool: DatabasePool
        private let sql: Statements

        /// Opens (creating when needed) the database at `path` and migrates its schema.
        ///
        /// - Throws: ``SessionError/Code/invalidConfiguration`` for an invalid table name or batch
        ///   size, ``SessionError/Code/io`` when the file cannot be opened or migrated, and
        ///   ``SessionError/Code/unsupported`` for a table written by a newer schema.
        public init(
            path: String,
            configuration: Configuration = Configuration(),
            clock: any SessionClock = SystemClock()
        ) throws {
            let table = configuration.table
            try SQLIdentifier.check(table, maximumLength: 64, database: "SQLite", layer: "SQLiteDriver")
            guard configuration.deleteBatchSize >= 1 else {
                throw SessionError(
                    .invalidConfiguration, "the delete batch size must be at least 1", layer: "SQLiteDriver")
            }
            self.clock = clock
            self.configuration = configuration
            self.path = path
            self.sql = Statements(table: table)
            var options = GRDB.Configuration()
            let timeout = configuration.busyTimeout.components
            options.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
            let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
            options.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
            do {
                pool = try DatabasePool(path: path, configuration: options)
                try Self.migrator(sql).migrate(pool)
                let newest = try pool.read { db in
                    try String.fetchAll(
                        db, sql: "SELECT identifier FROM grdb_migrations WHERE identifier LIKE ?",
                        arguments: ["\(table)-v%"]
                    ).compactMap { Int($0.dropFirst(table.count + 2)) }.max() ?? 0
                }
                guard newest <= Self.schemaVersion else {
                    throw SessionError(
                        .unsupported, "the session table has schema \(newest), newer than this driver's",
                        layer: "SQLiteDriver")
                }
            } catch let error as SessionError {
                throw error
            } catch {
                throw Self.failure(error, "cannot open the session database")
            }
        }

        /// The schema: version 1 is the table and its expiry index.
        private static func migrator(_ sql: Statements) -> DatabaseMigrator {
            var migrator = DatabaseMigrator()
            migrator.registerMigration("\(sql.table)-v1") { db in
                try db.execute(sql: sql.createTable)
                try db.execute(sql: sql.createIndex)
            }
            return migrator
        }

        /// What this driver offers: compare-and-swap and traversal of the original keys.
        public var capabilities: StoreCapabilities {
            StoreCapabilities(compareAndSwap: true, traversal: .originalKeys)
        }

        static func failure(_ error: any Error, _ what: String) -> SessionError {
            if let error = error as? SessionError { return error }
            // GRDB's description holds the SQL and SQLite's message, never bound values.
            let reason =
                (error as? DatabaseError).map { "SQLite error \($0.resultCode.rawValue): \($0.message ?? "")" }
                ?? String(describing: type(of: error))
            return SessionError(.io, "\(what): \(reason)", layer: "SQLiteDriver")
        }

        private func reading<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T)
            async throws -> T
        {
            do {
                return try await pool.read(body)
            } catch {
                throw Self.failure(error, what)
            }
        }

        private func writing<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T)
            async throws -> T
        {
            do {
                return try await pool.write(body)
            } catch {
                throw Self.failure(error, what)
            }
        }

        /// A new version: random, so that a key deleted and written again never repeats one.
        private static func newVersion() -> Int64 {
            Int64.random(in: 1...Int64.max)
        }

        // MARK: RecordStore

        /// The live record under `key`, or `nil`.
        public func get(_ key: SessionKey) async throws -> SessionPipeline.Record<[UInt8]>? {
            let now = clock.now()
            let sql = self.sql
            return try await reading("cannot read a session") { db in
                guard let row = try Row.fetchOne(db.cachedStatement(sql: sql.select), arguments: [key.rawValue]) else {
                    return nil
                }
                let record = Self.record(row)
                return record.hasExpired(at: now) ? nil : record
            }
        }

        private static func record(_ row: Row) -> SessionPipeline.Record<[UInt8]> {
            let value: Data = row[0]
            let expires: Int64? = row[1]
            let version: Int64 = row[2]
            return SessionPipeline.Record(
                [UInt8](value), expires: expires.map(UnixTime.init(seconds:)),
                version: RecordVersion(rawValue: UInt64(bitPattern: version)))
        }

        /// Stores `record` under `key` (an upsert).
        @discardableResult
        public func set(_ key: SessionKey, to record: SessionPipeline.Record<[UInt8]>) async throws -> RecordVersion? {
            let sql = self.sql
            let version = Self.newVersion()
            try await writing("cannot write a session") { db in
                try db.cachedStatement(sql: sql.upsert).execute(
                    arguments: [key.rawValue, Data(record.value), record.expires?.seconds, version])
            }
            return RecordVersion(rawValue: UInt64(bitPattern: version))
        }

        /// Removes `key`; whether a row was there.
        @discardableResult
        public func delete(_ key: SessionKey) async throws -> Bool {
            let sql = self.sql
            return try await writing("cannot delete a session") { db in
                try db.cachedStatement(sql: sql.delete).execute(arguments: [key.rawValue])
                return db.changesCount > 0
            }
        }

        /// Changes the expiry of the live record under `key`; its value and version stay.
        @discardableResult
        public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
            let now = clock.now().seconds
            let sql = self.sql
            return try await writing("cannot touch a session") { db in
                try db.cachedStatement(sql: sql.touch).execute(arguments: [expires?.seconds, key.rawValue, now])
                return db.changesCount > 0
            }
        }

        /// Stores `record` only if the live record under `key` has version `expected` (`nil`: only if
        /// there is no live record), in one transaction.
        public func compareAndSwap(
            _ key: SessionKey,
            expecting expected: RecordVersion?,
            with record: SessionPipeline.Record<[UInt8]>
        ) async throws -> RecordVersion? {
            let now = clock.now()
            let sql = self.sql
            let version = Self.newVersion()
            return try await writing("cannot write a session") { db in
                let current = try Row.fetchOne(db.cachedStatement(sql: sql.select), arguments: [key.rawValue])
                    .map(Self.record).flatMap { $0.hasExpired(at: now) ? nil : $0.version }
                guard current == expected else { return nil }
                try db.cachedStatement(sql: sql.upsert).execute(
                    arguments: [key.rawValue, Data(record.value), record.expires?.seconds, version])
                return RecordVersion(rawValue: UInt64(bitPattern: version))
            }
        }

        /// Removes every expired record, a batch per transaction.
        public func deleteExpired() async throws -> Int {
            try await deleteExpired(batchSize: configuration.deleteBatchSize, progress: nil)
        }

        /// Removes every record expired at the clock's current time, `batchSize` rows per
        /// transaction (the write lock is released between batches), calling `progress` after each
        /// batch with the rows removed so far and the number that were expired at the start.
        ///
        /// - Returns: how many rows were removed.
        public func deleteExpired(
            batchSize: Int,
            progress: (@Sendable (_ removed: Int, _ total: Int) -> Void)?
        ) async throws -> Int {
            precondition(batchSize >= 1, "the batch size must be at least 1")
            let now = clock.now().seconds
            let sql = self.sql
            let total = try await reading("cannot count expired sessions") { db in
                try Int.fetchOne(db.cachedStatement(sql: sql.countExpired), arguments: [now]) ?? 0
            }
            var removed = 0
            while true {
                let batch = try await writing("cannot delete expired sessions") { db in
                    try db.cachedStatement(sql: sql.deleteExpiredBatch).execute(arguments: [now, batchSize])
                    return db.changesCount
                }
                removed += batch
                if batch > 0 { progress?(removed, max(total, removed)) }
                if batch < batchSize { return removed }
            }
        }

        /// The live keys, read a page at a time in key order.
        public func keys() -> PagedKeys {
            let now = clock.now()
            return PagedKeys(layer: "SQLiteDriver") { [self] after, limit in
                try await page(after: after, now: now, limit: limit)
            }
        }

        /// Up to `limit` live keys after `after`, in order.
        private func page(after: String?, now: UnixTime, limit: Int) async throws -> [String] {
            let sql = self.sql
            return try await reading("cannot list sessions") { db in
                try String.fetchAll(db.cachedStatement(sql: sql.page), arguments: [after ?? "", now.seconds, limit])
            }
        }

        /// The number of rows, expired or not (for tests and statistics).
        public func count() async throws -> Int {
            let sql = self.sql
            return try await reading("cannot count sessions") { db in
                try Int.fetchOne(db, sql: sql.count) ?? 0
            }
        }
    }

    /// The SQL of a driver, for its table.
    private struct Statements: Sendable {
        let table: String
        var createTable: String {
            """
            CREATE TABLE IF NOT EXISTS "\(table)" (
                key TEXT PRIMARY KEY NOT NULL,
                value BLOB NOT NULL,
                expires INTEGER,
                version INTEGER NOT NULL
            ) WITHOUT ROWID
            """
        }
        var createIndex: String {
            #"CREATE INDEX IF NOT EXISTS "\#(table)_expires" ON "\#(table)" (expires) WHERE expires IS NOT NULL"#
        }
        var select: String { #"SELECT value, expires, version FROM "\#(table)" WHERE key = ?"# }
        var upsert: String {
            #"""
            INSERT INTO "\#(table)" (key, value, expires, version) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires, version = excluded.version
            """#
        }
        var delete: String { #"DELETE FROM "\#(table)" WHERE key = ?"# }
        var touch: String {
            #"UPDATE "\#(table)" SET expires = ? WHERE key = ? AND (expires IS NULL OR expires > ?)"#
        }
        var countExpired: String { #"SELECT count(*) FROM "\#(table)" WHERE expires IS NOT NULL AND expires <= ?"# }
        var deleteExpiredBatch: String {
            #"""
            DELETE FROM "\#(table)" WHERE key IN
            (SELECT key FROM "\#(table)" WHERE expires IS NOT NULL AND expires <= ? LIMIT ?)
            """#
        }
        var page: String {
            #"""
            SELECT key FROM "\#(table)" WHERE key > ? AND (expires IS NULL OR expires > ?) ORDER BY key LIMIT ?
            """#
        }
        var count: String { #"SELECT count(*) FROM "\#(table)""# }
    }

    extension ConfigurationRegistry {
        /// Adds `driver:sqlite`: `path=FILE` (required), `table=NAME` (`sessions`),
        /// `sync=normal|full` (`normal`), `batch=N` (rows per delete-expired transaction, 1000).
        ///
        /// ```swift
        /// var registry = ConfigurationRegistry.standard
        /// registry.registerSQLite()
        /// let store = try registry.store("driver:sqlite,path=/var/lib/app/sessions.sqlite;serializer:binary")
        /// ```
        public mutating func registerSQLite() {
            register(driver: "sqlite") { component, clock in
                try component.allowArguments(["path", "table", "sync", "batch"])
                var configuration = SQLiteDriver.Configuration()
                configuration.table = component.string("table") ?? "sessions"
                switch component.string("sync") {
                case nil, "normal": configuration.durability = .normal
                case "full": configuration.durability = .full
                default: throw component.error("sync is normal or full")
                }
                configuration.deleteBatchSize = try component.integer("batch", in: 1...1_000_000) ?? 1000
                return AnyRecordStore(
                    try SQLiteDriver(
                        path: try component.requiredString("path"), configuration: configuration, clock: clock))
            }
        }
    }

#endif
