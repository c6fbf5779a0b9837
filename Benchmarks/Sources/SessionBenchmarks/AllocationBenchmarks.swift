import CAllocationCounter
import CFloor
import Foundation
import Serializers
import SessionPipeline

/// Heap allocations per operation, counted by the executable's own `malloc` (`Sources/
/// CAllocationCounter`), which every library in the process calls, Swift's runtime included. Each
/// case runs once to warm up (first-use caches, lazily made contexts), then 1,000 times counted;
/// the table gives allocations and requested bytes per operation. Allocations on every thread
/// count, so async cases include what the concurrency runtime allocates for them.
func allocationBenchmarks() async throws {
    let keys = KeyRing(id: 1, key: SecretKey.random())
    let encryption = Encryption(keys: keys)
    let now = UnixTime(seconds: 1_700_000_000)
    let reader = JSONSerializer()
    let value = try reader.deserialize([reader.tag] + Array(try payload("session_1k")))
    guard let data = SessionDictionary(value) else { fatalError("session_1k is not a JSON object") }
    let binary = MessagePackSerializer()
    let binaryBytes = try binary.serialize(value)
    let jsonBytes = try reader.serialize(value)
    let zstd = Compression(.zstd(), threshold: 0)
    let compressed = zstd.compress(binaryBytes)
    let sealed = encryption.seal(binaryBytes, context: "session", expires: nil)
    guard let floor = floor_create(1 << 20) else { fatalError("the floor's context could not be made") }
    defer { floor_destroy(floor) }

    var cases: [AsyncCase] = []
    // A check that the counter sees allocations at all: one array per operation.
    cases.append(AsyncCase(name: "check: one array of 100 integers") { blackHole([Int](repeating: 7, count: 100)) })
    cases.append(AsyncCase(name: "binary: encode") { blackHole(try binary.serialize(value)) })
    cases.append(AsyncCase(name: "binary: decode") { blackHole(try binary.deserialize(binaryBytes)) })
    cases.append(AsyncCase(name: "JSON: encode") { blackHole(try reader.serialize(value)) })
    cases.append(AsyncCase(name: "JSON: decode") { blackHole(try reader.deserialize(jsonBytes)) })
    cases.append(AsyncCase(name: "zstd: compress") { blackHole(zstd.compress(binaryBytes)) })
    cases.append(AsyncCase(name: "zstd: decompress") { blackHole(try zstd.decompress(compressed)) })
    cases.append(
        AsyncCase(name: "XChaCha20-Poly1305: seal") {
            blackHole(encryption.seal(binaryBytes, context: "session", expires: nil))
        })
    cases.append(
        AsyncCase(name: "XChaCha20-Poly1305: open") {
            blackHole(try encryption.open(sealed, context: "session", now: now))
        })
    for (name, serializer) in [("binary", binary), ("JSON", reader)] as [(String, any SessionSerializer)] {
        let codec = try CookieCodec(
            serializer: serializer, compression: nil, protection: .encrypted(encryption),
            configuration: CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 64 * 1024))
        cases.append(
            AsyncCase(name: "cookie round trip, \(name)") {
                blackHole(try cookieRoundTrip(codec, value, now: now))
            })
    }
    cases.append(
        AsyncCase(name: "floor: cookie round trip in C") {
            blackHole(
                binaryBytes.withUnsafeBufferPointer {
                    floor_round_trip(floor, $0.baseAddress, $0.count, 0, "session")
                })
        })
    let codec = try CookieCodec(
        serializer: .binary, compression: nil, protection: .encrypted(encryption),
        configuration: CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 64 * 1024))
    let manager = try SessionManager(.client(codec))
    let header = try await manager.cookieHeader(data: data)
    cases.append(
        AsyncCase(name: "client-mode request that changes one key") {
            try await requestChangingOneKey(manager, header: header)
        })
    cases.append(
        AsyncCase(name: "client-mode request that does not touch the session") {
            let session = RequestSession()
            session.attach(to: manager, cookieHeaders: [header])
            blackHole(try await session.commit())
        })
    let driver = MemoryDriver<[UInt8]>()
    let store = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys).driver(driver)
    let cached = try SessionStore.pipeline().cached(SessionCache(entries: 10_000, ttl: .seconds(300)))
        .serialized(.binary).encrypted(with: keys).driver(driver)
    let key = try SessionKey("session:allocations")
    try await store.set(key, value)
    cases.append(AsyncCase(name: "store get (binary, encrypted, memory)") { blackHole(try await store.get(key)) })
    cases.append(AsyncCase(name: "store set (binary, encrypted, memory)") { try await store.set(key, value) })
    cases.append(AsyncCase(name: "store get, cache hit") { blackHole(try await cached.get(key)) })

    var rows: [[String]] = []
    for entry in selected(cases, name: { $0.name }) {
        let (allocations, bytes) = try await countAllocations(entry.body)
        if entry.name.hasPrefix("check:") && allocations < 0.99 {
            fatalError("the counter saw \(allocations) allocations for one array: it is not the process's malloc")
        }
        rows.append([entry.name, String(format: "%.1f", allocations), String(format: "%.0f", bytes)])
    }
    printTable(
        "Heap allocations per operation, session_1k (1,000 operations counted after one warm-up)",
        columns: ["operation", "allocations", "bytes requested"], rows: rows)
}

/// Allocations and requested bytes per call of `body`, over `iterations` calls after one warm-up.
func countAllocations(
    iterations: Int = 1000, _ body: () async throws -> Void
) async throws -> (allocations: Double, bytes: Double) {
    try await body()
    allocation_counter_start()
    for _ in 0..<iterations { try await body() }
    allocation_counter_stop()
    return (
        Double(allocation_counter_allocations()) / Double(iterations),
        Double(allocation_counter_bytes()) / Double(iterations)
    )
}
