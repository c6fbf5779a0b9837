import CFloor
import Foundation
import Serializers
import SessionPipeline

/// How cost grows: the cookie round trip against session size (about 256 B to 64 KiB of JSON,
/// each beside the native floor on the same bytes), and the memory and file drivers' get, set and
/// delete-expired against the number of sessions they hold (10^3 to 10^6).
///
/// Prints the tables and writes them as JSON to `BENCHMARK_SCALING_JSON` (default
/// `docs/scaling.json`), which `scripts/plot-scaling.py` draws as `docs/scaling.png`.
/// `BENCHMARK_SCALING_MAX` caps the store sizes (1,000,000 by default).
func scalingBenchmarks() async throws {
    let environment = ProcessInfo.processInfo.environment
    let largest = environment["BENCHMARK_SCALING_MAX"].flatMap { Int($0) } ?? 1_000_000
    let sizes = try await sessionSizeScaling()
    let stores = try await storeSizeScaling(upTo: largest)
    let document: [String: Any] = [
        "machine": machineDescription(),
        "command": "swift run -c release --package-path Benchmarks SessionBenchmarks scaling",
        "sizes": sizes,
        "stores": stores,
    ]
    let path = environment["BENCHMARK_SCALING_JSON"] ?? repositoryRoot() + "/docs/scaling.json"
    let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
    print("\nwrote \(path); draw it with: python3 scripts/plot-scaling.py")
}

/// A realistic session of about `bytes` bytes of JSON: the reference session's user fields in
/// order while they fit, then cart items.
func syntheticSession(bytes target: Int) throws -> SessionValue {
    let fields: [(String, String)] = [
        ("user_id", "4821937"), ("username", "\"j.doe\""), ("name", "\"Jane Doe\""),
        ("email", "\"jane.doe@example.com\""), ("roles", "[\"customer\",\"newsletter\",\"beta-tester\"]"),
        ("csrf_token", "\"RHtUVQcDMpg0TMkxpdzPaEMM1ZA7V0FhHVJWDBt2hWd\""), ("created_at", "1717996400"),
        ("last_seen", "1718000000"), ("expires_at", "1718001800"), ("locale", "\"en-US\""),
        ("tz", "\"America/New_York\""),
    ]
    var members: [String] = []
    func size(_ members: [String]) -> Int { members.joined(separator: ",").utf8.count + 2 }
    for (key, value) in fields {
        let member = "\"\(key)\":\(value)"
        if size(members + [member]) > target && !members.isEmpty { break }
        members.append(member)
    }
    var items: [String] = []
    var index = 0
    while true {
        let item =
            "{\"sku\":\"SKU-\(10_000 + index * 7919 % 90_000)\",\"name\":\"Item \(index)\",\"qty\":\(index % 5 + 1),"
            + "\"unit_price\":\(Double(index % 300) + 0.99),\"currency\":\"USD\",\"added_at\":\(1_717_900_000 + index * 37)}"
        let candidate = members + ["\"cart\":[" + (items + [item]).joined(separator: ",") + "]"]
        if size(candidate) > target { break }
        items.append(item)
        index += 1
    }
    if !items.isEmpty { members.append("\"cart\":[" + items.joined(separator: ",") + "]") }
    let text = "{" + members.joined(separator: ",") + "}"
    let reader = JSONSerializer()
    return try reader.deserialize([reader.tag] + Array(text.utf8))
}

private func sessionSizeScaling() async throws -> [[String: Any]] {
    let encryption = Encryption(keys: KeyRing(id: 1, key: SecretKey.random()))
    let now = UnixTime(seconds: 1_700_000_000)
    guard let floor = floor_create(1 << 22) else { fatalError("the floor's context could not be made") }
    defer { floor_destroy(floor) }
    var records: [[String: Any]] = []
    var rows: [[String]] = []
    for target in [256, 1024, 4096, 16384, 65536] {
        let value = try syntheticSession(bytes: target)
        let reader = JSONSerializer()
        let jsonBytes = try reader.serialize(value).count - 1
        var cases: [AsyncCase] = []
        var names: [String] = []
        let serializers: [(String, any SessionSerializer)] = [("binary", MessagePackSerializer()), ("JSON", reader)]
        for (serializerName, serializer) in serializers {
            for compression in [nil, Compression(.zstd())] {
                if serializerName == "JSON" && compression != nil { continue }
                // Room for a 64 KiB session: limits far above what a browser keeps, for measuring.
                let codec = try CookieCodec(
                    serializer: serializer, compression: compression, protection: .encrypted(encryption),
                    configuration: CookieCodec.Configuration(maximumChunks: 99, maximumHeaderBytes: 1 << 20))
                @Sendable func roundTrip() throws -> SessionValue? {
                    try cookieRoundTrip(codec, value, now: now).0
                }
                guard try roundTrip() == value else { fatalError("the round trip changed the session") }
                let bytes = try serializer.serialize(value)
                let compress: Int32 = compression == nil ? 0 : 1
                let pipeline = serializerName + (compression == nil ? "" : " + zstd")
                names.append(pipeline)
                cases.append(AsyncCase(name: pipeline) { blackHole(try roundTrip()) })
                cases.append(
                    AsyncCase(name: pipeline + " (floor)") {
                        let length = bytes.withUnsafeBufferPointer {
                            floor_round_trip(floor, $0.baseAddress, $0.count, compress, "session")
                        }
                        guard length > 0 else { fatalError("the floor's round trip failed") }
                    })
            }
        }
        let results = try await measureAsync(cases, rounds: 15)
        for (index, pipeline) in names.enumerated() {
            let swift = results[2 * index]
            let native = results[2 * index + 1]
            records.append([
                "json_bytes": jsonBytes, "pipeline": pipeline, "swift_us": swift.median / 1000,
                "floor_us": native.median / 1000,
            ])
            rows.append([
                "\(jsonBytes)", pipeline, swift.microseconds, native.microseconds,
                String(format: "%.2f×", swift.median / native.median),
            ])
        }
    }
    printTable(
        "Cookie round trip against session size (XChaCha20-Poly1305, each beside its floor)",
        columns: ["session, bytes of JSON", "pipeline", "Swift µs", "floor µs", "ratio"], rows: rows)
    return records
}

private func storeSizeScaling(upTo largest: Int) async throws -> [[String: Any]] {
    let reference = try syntheticSession(bytes: 1024)
    let plain = try MessagePackSerializer().serialize(reference)
    let value = Encryption(keys: KeyRing(id: 1, key: SecretKey.random())).seal(
        plain, context: "session", expires: nil)
    let now = SystemClock().now()
    var records: [[String: Any]] = []
    var rows: [[String]] = []
    var count = 1000
    while count <= largest {
        for kind in ["memory", "file (no fsync)"] {
            let directory = NSTemporaryDirectory() + "session-scaling-\(UInt64.random(in: 0...UInt64.max))"
            let driver: any RecordStore<[UInt8]> =
                kind == "memory"
                ? MemoryDriver<[UInt8]>()
                : try FileDriver(root: directory, configuration: .init(durability: .none))
            // Half the sessions live, half expired, interleaved as a real store's are.
            let live = try (0..<count / 2).map { try SessionKey("session:live\($0)") }
            let loadStart = ContinuousClock.now
            for index in 0..<count / 2 {
                try await driver.set(live[index], to: Record(value, expires: now + .seconds(3600)))
                try await driver.set(
                    try SessionKey("session:gone\(index)"), to: Record(value, expires: now - .seconds(1)))
            }
            let load = ContinuousClock.now - loadStart
            let results = try await measureAsync(
                [
                    AsyncCase(name: "get") { blackHole(try await driver.get(live.randomElement()!)) },
                    AsyncCase(name: "set") {
                        try await driver.set(live.randomElement()!, to: Record(value, expires: now + .seconds(3600)))
                    },
                ], rounds: 9)
            let deleteStart = ContinuousClock.now
            let removed = try await driver.deleteExpired()
            let delete = ContinuousClock.now - deleteStart
            guard removed == count / 2 else {
                throw SessionError(.io, "\(kind) removed \(removed) of \(count / 2) expired", layer: "benchmarks")
            }
            if kind != "memory" { try FileManager.default.removeItem(atPath: directory) }
            let loadMicroseconds = seconds(load) * 1e6 / Double(count)
            records.append([
                "driver": kind, "sessions": count, "get_us": results[0].median / 1000,
                "set_us": results[1].median / 1000, "load_us": loadMicroseconds,
                "delete_expired_ms": seconds(delete) * 1000, "deleted": removed,
            ])
            rows.append([
                kind, "\(count)", results[0].microseconds, results[1].microseconds,
                String(format: "%.2f", loadMicroseconds), String(format: "%.0f", seconds(delete) * 1000),
                String(format: "%.2f", seconds(delete) * 1e6 / Double(removed)),
            ])
        }
        count *= 10
    }
    printTable(
        "Drivers against store size (\(value.count)-byte records, half of them expired)",
        columns: [
            "driver", "sessions", "get µs", "set µs", "set µs (load)", "delete-expired ms", "µs per removed row",
        ],
        rows: rows)
    return records
}

/// The machine, as the suites' headers print it.
func machineDescription() -> String {
    var info = utsname()
    uname(&info)
    let machine = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return "\(machine), \(ProcessInfo.processInfo.activeProcessorCount) cores"
}
