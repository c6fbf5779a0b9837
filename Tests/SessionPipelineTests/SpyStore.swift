@testable import SessionPipeline

/// A store over a memory driver that counts the calls it receives and can be made slow, to see what
/// reaches the store below a layer.
final class SpyStore<Value: Sendable>: RecordStore {
    typealias Keys = KeySnapshot

    struct Calls: Sendable {
        var get = 0
        var set = 0
        var delete = 0
        var touch = 0
        var compareAndSwap = 0
        var deleteExpired = 0
        /// Reads under way now, and the most that were ever under way at once.
        var readsInFlight = 0
        var peakReadsInFlight = 0
    }

    let inner: MemoryDriver<Value>
    let delay: Duration
    private let counts = Locked(Calls())

    init(clock: any SessionClock, delay: Duration = .zero) {
        self.inner = MemoryDriver<Value>(clock: clock)
        self.delay = delay
    }

    var calls: Calls { counts.withLock { $0 } }
    var clock: any SessionClock { inner.clock }
    var capabilities: StoreCapabilities { inner.capabilities }

    private func pause() async throws {
        if delay > .zero { try await Task.sleep(for: delay) }
    }

    func get(_ key: SessionKey) async throws -> Record<Value>? {
        counts.withLock {
            $0.get += 1
            $0.readsInFlight += 1
            $0.peakReadsInFlight = max($0.peakReadsInFlight, $0.readsInFlight)
        }
        defer { counts.withLock { $0.readsInFlight -= 1 } }
        try await pause()
        return try await inner.get(key)
    }

    func set(_ key: SessionKey, to record: Record<Value>) async throws -> RecordVersion? {
        counts.withLock { $0.set += 1 }
        return try await inner.set(key, to: record)
    }

    func delete(_ key: SessionKey) async throws -> Bool {
        counts.withLock { $0.delete += 1 }
        return try await inner.delete(key)
    }

    func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        counts.withLock { $0.touch += 1 }
        return try await inner.touch(key, expires: expires)
    }

    func deleteExpired() async throws -> Int {
        counts.withLock { $0.deleteExpired += 1 }
        return try await inner.deleteExpired()
    }

    func keys() -> KeySnapshot {
        inner.keys()
    }

    func compareAndSwap(_ key: SessionKey, expecting: RecordVersion?, with record: Record<Value>) async throws
        -> RecordVersion?
    {
        counts.withLock { $0.compareAndSwap += 1 }
        return try await inner.compareAndSwap(key, expecting: expecting, with: record)
    }
}
