import Foundation
import SessionPipeline
import SessionPipelineTesting
import Testing

struct CacheTests {
    static func store(
        _ cache: SessionCache,
        clock: ManualClock = ManualClock(),
        delay: Duration = .zero
    ) throws -> (AnyRecordStore<SessionValue>, SpyStore<SessionValue>) {
        let spy = SpyStore<SessionValue>(clock: clock, delay: delay)
        return (try Pipeline<SessionValue, SessionValue>().cached(cache).store(over: spy), spy)
    }

    @Test func aHitDoesNotTouchTheStoreBelow() async throws {
        let cache = SessionCache()
        let (store, spy) = try Self.store(cache)
        let key = try SessionKey("session:hit")
        try await store.set(key, to: Record(["user": "alice"]))
        #expect(spy.calls.set == 1)
        for _ in 0..<100 {
            #expect(try await store.get(key)?.value == ["user": "alice"])
        }
        #expect(spy.calls.get == 0)
        #expect(cache.statistics.hits == 100)
    }

    @Test func writesGoThroughBeforeTheyAreAcknowledgedAndKeepTheirVersion() async throws {
        let (store, spy) = try Self.store(SessionCache())
        let key = try SessionKey("session:w")
        let version = try await store.set(key, to: Record(1))
        #expect(try await spy.inner.get(key)?.value == 1)
        #expect(try await store.get(key)?.version == version)
        let swapped = try await store.compareAndSwap(key, expecting: version, with: Record(2))
        #expect(swapped != nil && swapped != version)
        #expect(try await store.get(key)?.version == swapped)
        #expect(try await store.compareAndSwap(key, expecting: version, with: Record(3)) == nil)
        #expect(try await store.get(key)?.value == 2)
        #expect(spy.calls.get == 1, "the lost swap dropped the cached record, so one read went below")
    }

    @Test func missesOfOneKeyMakeOneReadOfTheStoreBelow() async throws {
        let (store, spy) = try Self.store(SessionCache(), delay: .milliseconds(200))
        let key = try SessionKey("session:popular")
        try await spy.inner.set(key, to: Record(["n": 1]))
        let values = try await withThrowingTaskGroup(of: SessionValue?.self) { group in
            for _ in 0..<64 {
                group.addTask { try await store.get(key)?.value }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values.count == 64 && values.allSatisfy { $0 == ["n": 1] })
        #expect(spy.calls.get == 1)
    }

    @Test func missesOfDifferentKeysProceedInParallel() async throws {
        let delay = Duration.milliseconds(300)
        let (store, spy) = try Self.store(SessionCache(), delay: delay)
        let keys = try (0..<64).map { try SessionKey("session:k\($0)") }
        for key in keys {
            try await spy.inner.set(key, to: Record(.string(key.rawValue)))
        }
        let start = ContinuousClock.now
        let values = try await withThrowingTaskGroup(of: (SessionKey, SessionValue?).self) { group in
            for key in keys {
                group.addTask { (key, try await store.get(key)?.value) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - start
        #expect(values.allSatisfy { key, value in value == .string(key.rawValue) })
        #expect(spy.calls.get == 64)
        // All 64 slow reads were under way at the same moment: the misses waited for one read's
        // time, not 64 (the elapsed time also depends on how busy the machine is).
        #expect(spy.calls.peakReadsInFlight == 64)
        print("64 misses of 300 ms each, in parallel: \(elapsed)")
    }

    @Test func servesNothingPastItsTTLOrTheRecordsExpiry() async throws {
        let clock = ManualClock()
        let (store, spy) = try Self.store(SessionCache(ttl: .seconds(60)), clock: clock)
        let short = try SessionKey("session:short")
        let long = try SessionKey("session:long")
        try await store.set(short, to: Record(1, expires: clock.now() + .seconds(10)))
        try await store.set(long, to: Record(2, expires: clock.now() + .seconds(3600)))
        clock.advance(by: .seconds(10))
        #expect(try await store.get(short) == nil, "served past the record's expiry")
        #expect(try await store.get(long)?.value == 2)
        #expect(spy.calls.get == 1)
        // Another server changes the record below; the cache serves the old one until its TTL.
        try await spy.inner.set(long, to: Record(3, expires: clock.now() + .seconds(3600)))
        #expect(try await store.get(long)?.value == 2)
        clock.advance(by: .seconds(50))
        #expect(try await store.get(long)?.value == 3)
    }

    @Test func deletesTouchesAndDeleteExpiredKeepTheCacheTrue() async throws {
        let clock = ManualClock()
        let cache = SessionCache()
        let (store, spy) = try Self.store(cache, clock: clock)
        let key = try SessionKey("session:x")
        try await store.set(key, to: Record(1, expires: clock.now() + .seconds(10)))
        #expect(try await store.touch(key, expires: clock.now() + .seconds(100)))
        clock.advance(by: .seconds(50))
        #expect(try await store.get(key)?.value == 1)
        #expect(spy.calls.get == 0)
        #expect(try await store.delete(key))
        #expect(try await store.get(key) == nil)
        try await store.set(key, to: Record(5, expires: clock.now() + .seconds(1)))
        clock.advance(by: .seconds(1))
        #expect(try await store.deleteExpired() == 1)
        #expect(cache.statistics.entries == 0)
        cache.invalidateAll()
        #expect(cache.statistics.entries == 0)
    }

    @Test func evictsTheLeastRecentlyUsedBeyondItsBounds() async throws {
        let cache = SessionCache(entries: 3, bytes: nil)
        let (store, spy) = try Self.store(cache)
        let keys = try (0..<4).map { try SessionKey("session:k\($0)") }
        for key in keys.prefix(3) {
            try await store.set(key, to: Record(1))
        }
        _ = try await store.get(keys[0])
        try await store.set(keys[3], to: Record(1))
        #expect(cache.statistics.evictions == 1)
        _ = try await store.get(keys[1])
        #expect(spy.calls.get == 1, "the least recently used key was the one evicted")

        let small = SessionCache(entries: 1000, bytes: 8 * 1024)
        let (bounded, _) = try Self.store(small)
        for index in 0..<100 {
            try await bounded.set(
                try SessionKey("session:b\(index)"), to: Record(.string(String(repeating: "x", count: 200))))
        }
        #expect(small.statistics.bytes <= 8 * 1024)
        #expect(small.statistics.evictions > 50)
    }

    @Test func statisticsCountHitsMissesAndLoads() async throws {
        let cache = SessionCache()
        let (store, spy) = try Self.store(cache)
        let key = try SessionKey("session:s")
        try await spy.inner.set(key, to: Record(7))
        _ = try await store.get(key)
        _ = try await store.get(key)
        _ = try await store.get(try SessionKey("session:absent"))
        let statistics = cache.statistics
        #expect(statistics.hits == 1 && statistics.misses == 2 && statistics.loads == 2 && statistics.entries == 1)
    }

    @Test func theProcessStaysWithinTheByteBoundWhileAMillionSessionsFlowThrough() throws {
        let worker = try Worker(["cache-flow", "32", "1000000"])
        var lines: [String] = []
        while let line = worker.readLine() { lines.append(line) }
        worker.process.waitUntilExit()
        let result = try #require(lines.last?.split(separator: " "))
        #expect(result.first == "rss")
        let baseline = Int(result[1])!
        let peak = Int(result[2])!
        let bound = 32 * 1024
        print("cache flow of 1,000,000 sessions: resident \(baseline) KiB before, peak \(peak) KiB, bound \(bound) KiB")
        #expect(peak - baseline <= bound + 8 * 1024, "grew \(peak - baseline) KiB for a \(bound) KiB bound")
    }
}
