import CFloor
import Foundation
import Serializers
import SessionPipeline

/// The full cookie round trip — session value → `Set-Cookie` → `Cookie` header → session value —
/// for {binary, JSON} × {no compression, zstd} on both reference sessions, each beside the native
/// floor (`Sources/CFloor`: the same byte work in C with the same libraries, on the same payload
/// bytes) measured in the same interleaved rounds, and published as a ratio to it.
func roundTripBenchmarks() async throws {
    let encryption = Encryption(keys: KeyRing(id: 1, key: SecretKey.random()))
    let now = UnixTime(seconds: 1_700_000_000)
    for name in referenceSessions() {
        let reader = JSONSerializer()
        let value = try reader.deserialize([reader.tag] + Array(try payload(name)))
        guard let floor = floor_create(1 << 20) else { fatalError("the floor's context could not be made") }
        defer { floor_destroy(floor) }
        var cases: [AsyncCase] = []
        var labels: [(pipeline: String, cookieBytes: Int, target: String)] = []
        let serializers: [(String, any SessionSerializer)] = [("binary", MessagePackSerializer()), ("JSON", reader)]
        for (serializerName, serializer) in serializers {
            for compression in [nil, Compression(.zstd())] {
                let codec = try CookieCodec(
                    serializer: serializer, compression: compression, protection: .encrypted(encryption),
                    configuration: CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 64 * 1024))
                @Sendable func roundTrip() throws -> (SessionValue?, Int) {
                    try cookieRoundTrip(codec, value, now: now)
                }
                let (back, cookieBytes) = try roundTrip()
                guard back == value else { fatalError("the \(serializerName) round trip changed the session") }
                let bytes = try serializer.serialize(value)
                let compress: Int32 = compression == nil ? 0 : 1
                guard
                    bytes.withUnsafeBufferPointer({
                        floor_round_trip(floor, $0.baseAddress, $0.count, compress, "session")
                    }) > 0
                else { fatalError("the floor's round trip failed") }
                let pipeline = serializerName + (compression == nil ? "" : " + zstd")
                labels.append(
                    (
                        pipeline, cookieBytes,
                        compression != nil ? "" : serializerName == "binary" ? "≤ 2×" : "≤ 3×"
                    ))
                cases.append(AsyncCase(name: pipeline) { blackHole(try roundTrip()) })
                cases.append(
                    AsyncCase(name: pipeline + " (floor)") {
                        blackHole(
                            bytes.withUnsafeBufferPointer {
                                floor_round_trip(floor, $0.baseAddress, $0.count, compress, "session")
                            })
                    })
            }
        }
        let results = try await measureAsync(cases)
        var rows: [[String]] = []
        for (index, label) in labels.enumerated() {
            let swift = results[2 * index]
            let native = results[2 * index + 1]
            rows.append([
                label.pipeline, swift.microseconds, native.microseconds,
                String(format: "%.2f×", swift.median / native.median), label.target, "\(label.cookieBytes)",
            ])
        }
        printTable(
            "Cookie round trip against the native floor, \(name) (\(try payload(name).count) bytes of JSON)",
            columns: [
                "pipeline (+ XChaCha20-Poly1305)", "Swift µs", "floor µs", "ratio", "target", "Cookie header bytes",
            ],
            rows: rows)
    }
}

/// value → `Set-Cookie` → `Cookie` header → value through `codec`; the value read back and the
/// `Cookie` header's length.
func cookieRoundTrip(_ codec: CookieCodec, _ value: SessionValue, now: UnixTime) throws -> (SessionValue?, Int) {
    let cookies = try codec.setCookies(for: value, expires: now + .seconds(1800), now: now, previousChunks: 0)
    let header = SessionManager.cookieHeader(from: cookies)
    return (try codec.read(cookieHeaders: [header], now: now)?.value, header.utf8.count)
}

/// The cache's hit path: `get` of the 1 KiB reference session through a full stack (cache, binary,
/// zstd, encryption over memory) when the cache holds it, beside the same `get` with no cache.
func cacheBenchmarks() async throws {
    let keys = KeyRing(id: 1, key: SecretKey.random())
    let reader = JSONSerializer()
    let value = try reader.deserialize([reader.tag] + Array(try payload("session_1k")))
    let driver = MemoryDriver<[UInt8]>()
    let cached = try SessionStore.pipeline().cached(SessionCache(entries: 10_000, ttl: .seconds(300)))
        .serialized(.binary).compressed(.zstd()).encrypted(with: keys).driver(driver)
    let uncached = try SessionStore.pipeline().serialized(.binary).compressed(.zstd()).encrypted(with: keys)
        .driver(driver)
    let key = try SessionKey("session:cached")
    try await cached.set(key, value)
    guard try await cached.get(key) == value else { fatalError("the cache returned another value") }
    let results = try await measureAsync([
        AsyncCase(name: "get, cache hit") { blackHole(try await cached.get(key)) },
        AsyncCase(name: "get, no cache (binary + zstd + encrypted, memory)") { blackHole(try await uncached.get(key)) },
    ])
    printTable(
        "Cache hit path, session_1k (target: hit ≤ 1 µs)",
        columns: ["case", "µs (median)", "µs (fastest)"],
        rows: results.map { [$0.name, $0.microseconds, String(format: "%.2f", $0.fastest / 1000)] })
}
