import CFloor
import Foundation
import Logging
import PostgresNIO
import Serializers
import SessionPipeline
import SessionPipelinePostgres
import SessionPipelineSQLite

/// get, set and delete-expired of every durable driver on the same data: the 1 KiB reference
/// session, serialized as binary and encrypted (what a full pipeline hands its driver), under
/// `BENCHMARK_STORE_ROWS` keys (10,000 by default).
///
/// Each file driver is measured beside its floor (`Sources/CFloor`): the same bytes read with
/// `open`+`read`+`close` from C, and written to a temporary file renamed over the old one, with
/// the same `fsync`s as the driver's durability, in a tree of as many files laid out like the
/// driver's (256 subdirectories).
///
/// PostgreSQL is measured when `SESSION_BENCH_POSTGRES` (or `SESSION_TEST_POSTGRES`) names a
/// server as `HOST:PORT` (user `postgres`, no password, database `postgres`), as
/// `scripts/postgres.sh start` prints it; the benchmark creates a table of its own and drops it.
func storeBenchmarks() async throws {
    let environment = ProcessInfo.processInfo.environment
    let rows = environment["BENCHMARK_STORE_ROWS"].flatMap { Int($0) } ?? 10_000
    let serializer = JSONSerializer()
    let reference = try serializer.deserialize([serializer.tag] + Array(try payload("session_1k")))
    let plain = try MessagePackSerializer().serialize(reference)
    let value = Encryption(keys: KeyRing(id: 1, key: SecretKey.random())).seal(
        plain, context: "session", expires: nil)
    let directory = NSTemporaryDirectory() + "session-benchmarks-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    // (name, driver, fsync for the C floor, or nil for no floor)
    var drivers: [(String, any RecordStore<[UInt8]>, Int32?)] = [
        ("memory", MemoryDriver<[UInt8]>(), nil),
        ("file (fsync, the default)", try FileDriver(root: directory + "/files-fsync"), 1),
        (
            "file (no fsync)",
            try FileDriver(root: directory + "/files-nosync", configuration: .init(durability: .none)), 0
        ),
        ("SQLite (synchronous NORMAL, the default)", try SQLiteDriver(path: directory + "/normal.sqlite"), nil),
        (
            "SQLite (synchronous FULL)",
            try SQLiteDriver(path: directory + "/full.sqlite", configuration: .init(durability: .full)), nil
        ),
    ]
    let floorFiles = try makeFloorFiles(in: directory + "/floor", count: rows, bytes: value)
    var postgres: (client: PostgresClient, runner: Task<Void, Never>, table: String)?
    if let address = environment["SESSION_BENCH_POSTGRES"] ?? environment["SESSION_TEST_POSTGRES"] {
        let parts = address.split(separator: ":")
        let configuration = PostgresClient.Configuration(
            host: String(parts[0]), port: parts.count > 1 ? Int(parts[1]) ?? 5432 : 5432, username: "postgres",
            password: nil, database: "postgres", tls: .disable)
        var quiet = Logger(label: "benchmarks")
        quiet.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        let runner = Task { await client.run() }
        let table = "bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let driver = try PostgresDriver(client: client, table: table, logger: quiet)
        try await driver.migrate()
        postgres = (client, runner, table)
        drivers.append(("PostgreSQL (127.0.0.1)", driver, nil))
    } else {
        print("\nPostgreSQL not measured: set SESSION_BENCH_POSTGRES=HOST:PORT (scripts/postgres.sh start DIR)")
    }

    let keys = try (0..<rows).map { try SessionKey("session:live\($0)") }
    let expired = try (0..<rows).map { try SessionKey("session:gone\($0)") }
    let now = SystemClock().now()
    var table: [[String]] = []
    for (name, driver, floorSync) in drivers {
        let loadStart = ContinuousClock.now
        for key in keys {
            try await driver.set(key, to: Record(value, expires: now + .seconds(3600)))
        }
        let load = ContinuousClock.now - loadStart
        var cases: [AsyncCase] = []
        cases.append(
            AsyncCase(name: "get") {
                blackHole(try await driver.get(keys.randomElement()!))
            })
        cases.append(
            AsyncCase(name: "set") {
                try await driver.set(keys.randomElement()!, to: Record(value, expires: now + .seconds(3600)))
            })
        if let floorSync {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            cases.append(
                AsyncCase(name: "floor get") {
                    let file = floorFiles.randomElement()!
                    guard floor_file_read(file.path, &buffer, buffer.count) == value.count else {
                        throw SessionError(.io, "the floor could not read \(file.path)", layer: "benchmarks")
                    }
                })
            cases.append(
                AsyncCase(name: "floor set") {
                    let file = floorFiles.randomElement()!
                    guard floor_file_write(file.directory, file.path, value, value.count, floorSync) == 0 else {
                        throw SessionError(.io, "the floor could not write \(file.path)", layer: "benchmarks")
                    }
                })
        }
        let results = try await measureAsync(cases, rounds: 15)
        // Delete-expired: as many expired rows again, among the live ones.
        for key in expired {
            try await driver.set(key, to: Record(value, expires: now - .seconds(1)))
        }
        let deleteStart = ContinuousClock.now
        let removed = try await driver.deleteExpired()
        let delete = ContinuousClock.now - deleteStart
        guard removed == rows else {
            throw SessionError(.io, "\(name) removed \(removed) of \(rows) expired rows", layer: "benchmarks")
        }
        let ratios =
            results.count == 4
            ? [
                results[2].microseconds, String(format: "%.2f×", results[0].median / results[2].median),
                results[3].microseconds, String(format: "%.2f×", results[1].median / results[3].median),
            ] : ["", "", "", ""]
        table.append(
            [name, results[0].microseconds, results[1].microseconds] + ratios + [
                String(format: "%.2f", seconds(load) * 1e6 / Double(rows)),
                String(format: "%.0f", seconds(delete) * 1e3),
                String(format: "%.2f", seconds(delete) * 1e6 / Double(rows)),
            ])
    }
    if let postgres {
        try await postgres.client.query("DROP TABLE \(unescaped: postgres.table)")
        try await postgres.client.query("DELETE FROM session_pipeline_schema WHERE name = \(postgres.table)")
        postgres.runner.cancel()
    }
    printTable(
        "Drivers on the same data: \(rows) sessions of \(value.count) bytes (the 1 KiB reference, binary, encrypted)",
        columns: [
            "driver", "get µs (median)", "set µs (median)", "floor get µs", "get ÷ floor", "floor set µs",
            "set ÷ floor", "set µs (initial load)", "delete-expired of \(rows) ms",
            "µs per deleted row",
        ],
        rows: table)
}

/// The C floor's files: `count` copies of `bytes` in 256 subdirectories of `root`.
private func makeFloorFiles(in root: String, count: Int, bytes: [UInt8]) throws -> [(directory: String, path: String)] {
    var files: [(directory: String, path: String)] = []
    for index in 0..<count {
        let directory = root + "/" + String(format: "%02x", index % 256)
        if index < 256 {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let path = directory + "/\(index)"
        guard floor_file_write(directory, path, bytes, bytes.count, 0) == 0 else {
            throw SessionError(.io, "cannot write \(path)", layer: "benchmarks")
        }
        files.append((directory, path))
    }
    return files
}
