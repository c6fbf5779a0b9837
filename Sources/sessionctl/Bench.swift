import ArgumentParser
import Foundation
import Serializers
import SessionPipeline

/// `sessionctl bench`: the headline pipelines, timed in this process.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the headline pipelines on the reference sessions and print a table.",
        discussion: """
            A short timing loop of its own (not the benchmark suite: see docs/BENCHMARKS.md): each
            case runs for --seconds, and the median of five such samples is shown, in microseconds per
            operation. Build with -c release for figures that mean anything.
            """)

    @Option(help: "Seconds per sample of each case.")
    var seconds: Double = 0.2

    func run() async throws {
        try await running {
            let keys = KeyRing(id: 1, key: SecretKey.random())
            let encryption = Encryption(keys: keys)
            var rows: [[String]] = []
            for (label, json) in [("1 KiB", ReferenceSessions.oneKiB), ("8 KiB", ReferenceSessions.eightKiB)] {
                let reader = JSONSerializer()
                let value = try reader.deserialize([reader.tag] + Array(json.utf8))
                let serializers: [(String, any SessionSerializer)] = [
                    ("binary", MessagePackSerializer()), ("json", JSONSerializer()),
                ]
                for (name, serializer) in serializers {
                    for compression in [nil, Compression(.zstd(), threshold: 0)] {
                        let pipeline = "\(name)" + (compression == nil ? "" : " + zstd") + " + XChaCha20-Poly1305"
                        var cookie = ""
                        let time = try await measureAsync {
                            var payload = try serializer.serialize(value)
                            if let compression { payload = compression.compress(payload) }
                            cookie = Base64.urlEncodedString(
                                encryption.seal(payload, context: "session", expires: nil))
                            guard let envelope = Base64.decode(Array(cookie.utf8), url: true) else {
                                throw Failure.invalid("base64url round trip failed")
                            }
                            var opened = try encryption.open(envelope, context: "session", now: UnixTime(seconds: 1))
                                .plaintext
                            if let compression { opened = try compression.decompress(opened) }
                            guard try serializer.deserialize(opened) == value else {
                                throw Failure.invalid("the round trip changed the session")
                            }
                        }
                        rows.append([label, "cookie round trip: " + pipeline, time, "\(cookie.utf8.count)"])
                    }
                }
                let store = try SessionStore.pipeline().cached(SessionCache(entries: 1000, ttl: .seconds(300)))
                    .serialized(.binary).compressed(
                        .zstd()
                    ).encrypted(with: keys).driver(MemoryDriver<[UInt8]>())
                let key = try SessionKey("session:bench")
                try await store.set(key, value)
                let hit = try await measureAsync { _ = try await store.get(key) }
                rows.append([label, "store get, cache hit", hit, "-"])
                let uncached = try SessionStore.pipeline().serialized(.binary).compressed(.zstd()).encrypted(
                    with: keys
                ).driver(MemoryDriver<[UInt8]>())
                let write = try await measureAsync { try await uncached.set(key, value) }
                rows.append([label, "store set: binary + zstd + encrypted, memory", write, "-"])
                let read = try await measureAsync { _ = try await uncached.get(key) }
                rows.append([label, "store get: binary + zstd + encrypted, memory", read, "-"])
            }
            let header = ["session", "case", "µs", "cookie bytes"]
            let widths = (0..<header.count).map { column in
                ([header] + rows).map { $0[column].count }.max() ?? 0
            }
            for row in [header] + rows {
                let line = zip(row, widths).map { cell, width in
                    cell.padding(toLength: width, withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
                print(line.replacingOccurrences(of: " +$", with: "", options: .regularExpression))
            }
        }
    }

    /// The median of five samples of `seconds` each, in microseconds per call.
    private func measureAsync(_ body: () async throws -> Void) async throws -> String {
        var samples: [Double] = []
        for _ in 0..<5 {
            var count = 0
            let start = ContinuousClock.now
            var elapsed = Duration.zero
            while elapsed < .seconds(seconds) {
                try await body()
                count += 1
                if count % 16 == 0 || count < 16 { elapsed = ContinuousClock.now - start }
            }
            elapsed = ContinuousClock.now - start
            samples.append(microseconds(elapsed) / Double(count))
        }
        return String(format: "%.2f", samples.sorted()[2])
    }

    private func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }
}
