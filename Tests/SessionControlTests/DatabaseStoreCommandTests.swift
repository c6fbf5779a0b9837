#if SQLite || PostgreSQL
    import Foundation
    import Serializers
    import SessionPipeline
    import Testing

    /// `driver:sqlite` and `driver:postgres` configuration strings through `sessionctl` (built with
    /// the traits): sessions migrated from a file store, counted, re-keyed and purged.
    struct DatabaseStoreCommandTests {
        /// A file store of `count` sessions under key id 1, half of them expired.
        static func fileStore(_ root: String, key: String, count: Int) async throws {
            let store = try SessionStore.pipeline().serialized(.binary).encrypted(with: KeyRing(text: "1:\(key)"))
                .driver(FileDriver(root: root, configuration: .init(durability: .none)))
            let now = SystemClock().now()
            for index in 0..<count {
                try await store.set(
                    try SessionKey("session:d\(index)"), ["n": .int(Int64(index))],
                    expires: index.isMultiple(of: 2) ? now + .seconds(3600) : now - .seconds(60))
            }
        }

        static func exercise(_ database: String, in directory: TemporaryDirectory) async throws {
            let (k1, k2) = (randomKeyText(), randomKeyText())
            let environment = ["OLD_KEYS": "1:\(k1)", "NEW_KEYS": "2:\(k2),1:\(k1)"]
            let root = directory.path + "/files"
            try await fileStore(root, key: k1, count: 200)
            func run(_ arguments: [String]) async throws -> String {
                let finished = try await sessionctl(arguments, environment: environment)
                #expect(finished.status == 0, "sessionctl \(arguments.first ?? ""): \(finished.error)")
                return finished.text
            }
            let source = "driver:file;root=\(root);serializer:binary;encrypt:env=OLD_KEYS"
            let target = "\(database);serializer:json;encrypt:env=OLD_KEYS"
            #expect(try await run(["migrate", "--from", source, "--to", target]).hasPrefix("copied 100 of 200 in "))
            let stats = try await run(["stats", "--store", target])
            #expect(stats.contains("sessions: 100 live, 0 expired"), "\(stats)")
            #expect(stats.contains("serializers: json, not compressed 100"), "\(stats)")
            let rekeyed = "\(database);serializer:json;encrypt:env=NEW_KEYS"
            #expect(try await run(["rekey", "--store", rekeyed]).hasPrefix("re-sealed 100 of 100 in "))
            #expect(try await run(["stats", "--store", rekeyed]).contains("key ids: 2 100"))
            #expect(try await run(["purge", "--store", rekeyed]).hasPrefix("removed 0 of 100 in "))
        }

        #if SQLite
            @Test func sqliteStoresWorkThroughTheirConfigurationString() async throws {
                let directory = try TemporaryDirectory("sqlite")
                defer { directory.remove() }
                try await Self.exercise("driver:sqlite,path=\(directory.path)/sessions.sqlite", in: directory)
            }
        #endif

        #if PostgreSQL
            @Test(
                .enabled(
                    if: ProcessInfo.processInfo.environment["SESSION_TEST_POSTGRES"] != nil,
                    "SESSION_TEST_POSTGRES is not set (scripts/postgres.sh start DIR)"))
            func postgresStoresWorkThroughTheirConfigurationString() async throws {
                let directory = try TemporaryDirectory("postgres")
                defer { directory.remove() }
                let address = ProcessInfo.processInfo.environment["SESSION_TEST_POSTGRES"] ?? ""
                let parts = address.split(separator: ":")
                let table = "ctl_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
                try await Self.exercise(
                    "driver:postgres,host=\(parts[0]),port=\(parts.last ?? "5432"),user=postgres,tls=disable,table=\(table),timeout=120",
                    in: directory)
            }
        #endif
    }
#endif
