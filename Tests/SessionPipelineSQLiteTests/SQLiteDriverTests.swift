#if SQLite
    import Foundation
    import GRDB
    import Serializers
    import SessionPipeline
    import SessionPipelineSQLite
    import SessionPipelineTesting
    import Synchronization
    import Testing

    /// The library's record (GRDB has a `Record` of its own).
    typealias SessionRecord = SessionPipeline.Record<[UInt8]>

    /// A new database file in a new temporary directory.
    func freshDatabase() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/sessionpipeline-sqlite-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw SessionError(.io, "mkdtemp failed", layer: "tests") }
        return String(cString: created) + "/sessions.sqlite"
    }

    let sqliteTestKeys: KeyRing = {
        do {
            return try KeyRing(
                primary: .init(id: 2, key: SecretKey.random()), older: [.init(id: 1, key: SecretKey.random())])
        } catch {
            fatalError("\(error)")
        }
    }()

    struct SQLiteDriverTests {
        @Test func passesTheConformanceSuite() async throws {
            let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
            let report = try await StoreConformance.run(options: options) { clock in
                try SQLiteDriver(path: try freshDatabase(), clock: clock)
            }
            print("sqlite: \(report)")
            #expect(report.passed.count >= 12)
        }

        @Test func passesTheConformanceSuiteUnderTheFullStack() async throws {
            let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
            let report = try await StoreConformance.run(options: options) { clock in
                try SessionStore.pipeline()
                    .cached(SessionCache(entries: 2000, ttl: .seconds(60)))
                    .serialized(.binary)
                    .compressed(.zstd(), threshold: 64)
                    .encrypted(with: sqliteTestKeys)
                    .driver(SQLiteDriver(path: try freshDatabase(), clock: clock))
                    .base
            }
            print("cache, binary, zstd, encrypted over sqlite: \(report)")
            #expect(report.passed.count >= 12)
        }

        /// The README's SQLite example, kept compiling and working.
        @Test func theReadmeExampleWorks() async throws {
            let keys = sqliteTestKeys
            let path = try freshDatabase()
            let driver = try SQLiteDriver(path: path)  // WAL, schema created on first use
            let store = try SessionStore.pipeline()
                .serialized(.binary)
                .encrypted(with: keys)
                .driver(driver)
            let id = SessionID.random()
            try await store.save(["user": "alice"], for: id, expires: store.clock.now() + .seconds(1800))
            #expect(try await store.load(id)?["user"] == "alice")
            try await store.save(["user": "bob"], for: SessionID.random(), expires: store.clock.now() - .seconds(1))

            // A maintenance task: expired rows go a batch per transaction, with progress.
            let removed = try await driver.deleteExpired(batchSize: 1000) { done, total in print("\(done)/\(total)") }
            #expect(removed == 1)
        }

        @Test func theSchemaIsCreatedOnceAndReopeningKeepsEverything() async throws {
            let path = try freshDatabase()
            let clock = ManualClock(now: 1_700_000_000)
            do {
                let driver = try SQLiteDriver(path: path, clock: clock)
                try await driver.set(try SessionKey("session:a"), to: SessionRecord([1, 2, 3], expires: 1_700_000_100))
            }
            let reopened = try SQLiteDriver(path: path, clock: clock)
            let record = try #require(try await reopened.get(try SessionKey("session:a")))
            #expect(record.value == [1, 2, 3])
            #expect(record.expires == 1_700_000_100)
            // The schema is versioned: the migration that created it is recorded once.
            let migrations = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(migrations == ["sessions-v1"])
            let indexes = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'")
            }
            #expect(indexes.contains("sessions_expires"))
            let journal = try await DatabaseQueue(path: path).read { db in
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            }
            #expect(journal == "wal")
        }

        @Test func aTableFromANewerSchemaIsRefused() async throws {
            let path = try freshDatabase()
            _ = try SQLiteDriver(path: path)
            try await DatabaseQueue(path: path).write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('sessions-v2')")
            }
            #expect {
                _ = try SQLiteDriver(path: path)
            } throws: { error in
                (error as? SessionError)?.code == .unsupported
            }
            // Another table in the same file is not affected.
            _ = try SQLiteDriver(path: path, configuration: .init(table: "other"))
        }

        @Test func tableNamesAreCheckedAndTablesAreIndependent() async throws {
            let path = try freshDatabase()
            #expect(throws: SessionError.self) {
                try SQLiteDriver(path: path, configuration: .init(table: "x; DROP TABLE y"))
            }
            #expect(throws: SessionError.self) { try SQLiteDriver(path: path, configuration: .init(table: "1abc")) }
            #expect(throws: SessionError.self) {
                try SQLiteDriver(path: path, configuration: .init(deleteBatchSize: 0))
            }
            let shop = try SQLiteDriver(path: path, configuration: .init(table: "shop_sessions"))
            let admin = try SQLiteDriver(path: path, configuration: .init(table: "admin_sessions"))
            let key = try SessionKey("session:x")
            try await shop.set(key, to: SessionRecord([7]))
            #expect(try await admin.get(key) == nil)
            #expect(try await shop.get(key)?.value == [7])
        }

        @Test func twoDriversOnOneFileSeeEachOthersWritesAndDeletesAtOnce() async throws {
            let path = try freshDatabase()
            let first = try SQLiteDriver(path: path)
            let second = try SQLiteDriver(path: path)
            let key = try SessionKey("session:shared")
            try await first.set(key, to: SessionRecord([1]))
            let seen = try #require(try await second.get(key))
            #expect(seen.value == [1])
            // Compare-and-swap across the two: the second write with a stale version loses.
            let won = try await second.compareAndSwap(key, expecting: seen.version, with: SessionRecord([2]))
            #expect(won != nil)
            #expect(try await first.compareAndSwap(key, expecting: seen.version, with: SessionRecord([3])) == nil)
            #expect(try await first.get(key)?.value == [2])
            #expect(try await second.delete(key))
            #expect(try await first.get(key) == nil)
        }

        @Test func traversalPagesThroughMoreKeysThanAPage() async throws {
            let clock = ManualClock(now: 1_700_000_000)
            let driver = try SQLiteDriver(path: try freshDatabase(), clock: clock)
            let count = 2500
            for index in 0..<count {
                // Every tenth record is already expired and must not be listed.
                let expires: UnixTime? = index % 10 == 0 ? 1_699_999_000 : nil
                try await driver.set(
                    try SessionKey("session:k\(index)"), to: SessionRecord([UInt8(index & 0xFF)], expires: expires))
            }
            var seen = Set<String>()
            for try await key in driver.keys() { seen.insert(key.rawValue) }
            #expect(seen.count == count - count / 10)
            #expect(seen.contains("session:k1") && !seen.contains("session:k0"))
        }

        @Test func aFileThatIsNotADatabaseIsATypedError() async throws {
            let path = try freshDatabase()
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try SQLiteDriver(path: path)
            } throws: { error in
                (error as? SessionError)?.code == .io
            }
            // A readable database elsewhere is unaffected.
            let other = try SQLiteDriver(path: try freshDatabase())
            try await other.set(try SessionKey("session:ok"), to: SessionRecord([1]))
            #expect(try await other.get(try SessionKey("session:ok"))?.value == [1])
        }

        @Test func deleteExpiredRemovesExactlyTheExpiredHalfOfAMillionRowsInBatches() async throws {
            let path = try freshDatabase()
            let clock = ManualClock(now: 1_700_000_000)
            let driver = try SQLiteDriver(path: path, clock: clock)
            let total = 1_000_000
            // Written in one transaction through GRDB directly: the point is the delete.
            let value = Data(repeating: 0xAB, count: 64)
            try await DatabasePool(path: path).write { db in
                let statement = try db.makeStatement(
                    sql: "INSERT INTO sessions (key, value, expires, version) VALUES (?, ?, ?, 1)")
                for index in 0..<total {
                    // Even rows expired a second ago, odd rows expire in an hour; a few never do.
                    let expires: Int64? =
                        index % 1000 == 1 ? nil : (index % 2 == 0 ? 1_699_999_999 : 1_700_003_600)
                    try statement.execute(arguments: ["session:\(index)", value, expires])
                }
            }
            #expect(try await driver.count() == total)
            let reports = Mutex<[(Int, Int)]>([])
            let started = ContinuousClock.now
            let removed = try await driver.deleteExpired(batchSize: 20_000) { removed, expected in
                reports.withLock { $0.append((removed, expected)) }
            }
            print("delete-expired: \(removed) of \(total) rows in \(ContinuousClock.now - started)")
            #expect(removed == total / 2)
            #expect(try await driver.count() == total / 2)
            let progress = reports.withLock { $0 }
            #expect(progress.count == total / 2 / 20_000)
            #expect(progress.map(\.0) == progress.map(\.0).sorted())
            #expect(progress.last?.0 == total / 2 && progress.allSatisfy { $0.1 == total / 2 })
            // Exactly the live half is left.
            #expect(try await driver.get(try SessionKey("session:1"))?.value.count == 64)
            #expect(try await driver.get(try SessionKey("session:0")) == nil)
            #expect(try await driver.deleteExpired() == 0)
        }
    }
#endif
