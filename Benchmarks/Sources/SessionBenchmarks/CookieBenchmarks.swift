import Foundation
import Serializers
import SessionPipeline

/// What one client-mode request costs the session layer: the `counter` route of the example
/// (open the cookie, change one key, seal it again), against its parts and against the floor of
/// XChaCha20-Poly1305 alone on the same bytes.
func cookieBenchmarks() async throws {
    let keys = KeyRing(id: 1, key: SecretKey.random())
    let encryption = Encryption(keys: keys)
    for name in referenceSessions() {
        let serializer = JSONSerializer()
        guard let data = SessionDictionary(try serializer.deserialize([serializer.tag] + Array(try payload(name))))
        else { fatalError("\(name) is not a JSON object") }
        var rows: [[String]] = []
        var cases: [AsyncCase] = []
        var floorBytes = 0
        for (label, compression) in [("binary, zstd", Compression(.zstd()) as Compression?), ("binary", nil)] {
            let codec = try CookieCodec(
                serializer: .binary,
                compression: compression,
                protection: .encrypted(encryption),
                configuration: CookieCodec.Configuration(maximumChunks: 8, maximumHeaderBytes: 64 * 1024)
            )
            let manager = try SessionManager(.client(codec))
            let header = try await manager.cookieHeader(data: data)
            let cookies = CookieHeader.parse(header)
            let now = manager.clock.now()
            let sealed = try require(try codec.sealedText(in: cookies)).text
            floorBytes = max(floorBytes, sealed.utf8.count * 3 / 4)
            cases.append(
                AsyncCase(name: "\(label): open the cookie") {
                    blackHole(try codec.read(cookieHeaders: [header], now: now))
                })
            cases.append(
                AsyncCase(name: "\(label): seal a cookie") {
                    blackHole(
                        try codec.setCookies(
                            for: data.value, expires: now + .seconds(1800), now: now, previousChunks: 1))
                })
            let payload = try require(try codec.readPayload(cookies, now: now)).payload
            let splicer = MessagePackSerializer()
            cases.append(
                AsyncCase(name: "\(label): parse the Cookie header") {
                    blackHole(CookieHeader.parse(header))
                })
            cases.append(
                AsyncCase(name: "\(label): open the cookie to its payload") {
                    blackHole(try codec.readPayload(cookieHeaders: [header], now: now))
                })
            cases.append(
                AsyncCase(name: "\(label): split the payload, values left encoded") {
                    let record = try require(try splicer.entries(of: EncodedValue(payload: payload)))
                    blackHole(try splicer.entries(of: try require(record.first { $0.key == "data" }).value))
                })
            cases.append(
                AsyncCase(name: "\(label): seal a payload into cookies") {
                    blackHole(
                        try codec.setCookies(
                            forPayload: payload, expires: now + .seconds(1800), now: now, previousChunks: 1))
                })
            cases.append(
                AsyncCase(name: "\(label): a request that changes one key") {
                    try await requestChangingOneKey(manager, header: header)
                })
            cases.append(
                AsyncCase(name: "\(label): a request that reads one key") {
                    let session = RequestSession()
                    session.attach(to: manager, cookieHeaders: [header])
                    blackHole(try await session.value(forKey: "username"))
                    blackHole(try await session.commit())
                })
            // The example server's configuration: a revocation list (for "log out everywhere")
            // in a memory store, looked up on every request.
            let revocations = try SessionStore.pipeline().serialized(.binary).encrypted(with: keys)
                .driver(MemoryDriver<[UInt8]>())
            let checked = try SessionManager(.client(codec), options: .init(revocations: revocations))
            cases.append(
                AsyncCase(name: "\(label): the same, checking a revocation list") {
                    try await requestChangingOneKey(checked, header: header)
                })
            cases.append(
                AsyncCase(name: "\(label): a request that does not touch the session") {
                    let session = RequestSession()
                    session.attach(to: manager, cookieHeaders: [header])
                    blackHole(try await session.commit())
                })
            rows.append([label, "\(header.utf8.count)"])
        }
        let plaintext = [UInt8](repeating: 0x61, count: floorBytes - Encryption.overhead)
        let envelope = encryption.seal(plaintext, context: "session", expires: nil)
        cases.append(
            AsyncCase(name: "floor: XChaCha20-Poly1305 seal + open of the same size") {
                blackHole(
                    try encryption.open(
                        encryption.seal(plaintext, context: "session", expires: nil), context: "session", now: 0))
            })
        _ = envelope
        let results = try await measureAsync(cases)
        printTable(
            "Client-mode cookie, \(name) (\(try payload(name).count) bytes of JSON)",
            columns: ["case", "µs (median)", "µs (fastest)"],
            rows: results.map { [$0.name, $0.microseconds, String(format: "%.2f", $0.fastest / 1000)] }
        )
        printTable("Cookie size", columns: ["pipeline", "Cookie header bytes"], rows: rows)
    }
}

/// The example's `/counter` route without HTTP: open the session, increment `count`, commit.
func requestChangingOneKey(_ manager: SessionManager, header: String) async throws {
    let session = RequestSession()
    session.attach(to: manager, cookieHeaders: [header])
    let count = (try await session.get(Int.self, "count") ?? 0) + 1
    try await session.set(count, for: "count")
    blackHole(try await session.commit())
}

struct AsyncCase {
    let name: String
    let body: () async throws -> Void
}

/// ``measure(_:rounds:)`` for async operations.
func measureAsync(_ cases: [AsyncCase], rounds: Int = 25) async throws -> [Measurement] {
    let cases = selected(cases) { $0.name }
    if let count = fixedCount() {
        for entry in cases {
            for _ in 0..<count { try await entry.body() }
        }
        exit(0)
    }
    let clock = ContinuousClock()
    var iterations: [Int] = []
    for entry in cases {
        var count = 1
        while true {
            let start = clock.now
            for _ in 0..<count { try await entry.body() }
            if clock.now - start > .milliseconds(10) || count >= 1 << 24 { break }
            count *= 2
        }
        iterations.append(count)
    }
    var samples = [[Double]](repeating: [], count: cases.count)
    for _ in 0..<rounds {
        for (index, entry) in cases.enumerated() {
            let start = clock.now
            for _ in 0..<iterations[index] { try await entry.body() }
            samples[index].append(seconds(clock.now - start) * 1e9 / Double(iterations[index]))
        }
    }
    return summarize(names: cases.map(\.name), samples: samples)
}

private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw SessionError(.malformed, "missing value", layer: "benchmarks") }
    return value
}
