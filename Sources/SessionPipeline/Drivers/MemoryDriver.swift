import Synchronization

/// A driver that keeps records in process memory.
///
/// Get, set and delete are O(1). Expiry is checked on every read against the injected clock (an
/// expired record reads as `nil` and is dropped). With a ``Configuration/capacity`` the driver holds
/// at most that many records and evicts the least recently used one to make room; without one it
/// grows without bound. Safe to share between any number of tasks. Supports compare-and-swap.
///
/// Records of any type can be held, so a memory store needs no serializer at all:
///
/// ```swift
/// let clock = ManualClock()
/// let values = MemoryDriver<SessionValue>(clock: clock)       // values as they are
/// let bytes = MemoryDriver<[UInt8]>(capacity: 10_000)          // below a serializer
/// let store = try SessionStore.pipeline().driver(values)
/// ```
///
/// Everything is lost when the process exits; several processes do not share it.
public final class MemoryDriver<Value: Sendable>: RecordStore, ConfigurationDescribable {
    /// The snapshot of keys taken by ``keys()``.
    public typealias Keys = KeySnapshot

    /// Settings of a memory driver.
    public struct Configuration: Sendable {
        /// The most records held at once; the least recently used is evicted beyond it. `nil` (the
        /// default) for no bound.
        public var capacity: Int?

        /// Creates a configuration.
        ///
        /// - Precondition: `capacity`, when given, is at least 1.
        public init(capacity: Int? = nil) {
            precondition(capacity.map { $0 >= 1 } ?? true, "a memory driver's capacity must be at least 1")
            self.capacity = capacity
        }
    }

    /// The clock expiry is checked against.
    public let clock: any SessionClock
    /// The driver's settings.
    public let configuration: Configuration
    private let state: Locked<State>

    /// Creates an empty driver.
    ///
    /// - Parameters:
    ///   - capacity: The most records held at once (LRU eviction beyond it); `nil` for no bound.
    ///   - clock: The clock for expiry; the system clock by default.
    public convenience init(capacity: Int? = nil, clock: any SessionClock = SystemClock()) {
        self.init(configuration: Configuration(capacity: capacity), clock: clock)
    }

    /// Creates an empty driver with `configuration`.
    public init(configuration: Configuration, clock: any SessionClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
        self.state = Locked(State())
    }

    /// `driver:memory`, with `,capacity=N` when bounded.
    public var configurationComponent: String {
        "driver:memory" + (configuration.capacity.map { ",capacity=\($0)" } ?? "")
    }

    /// Compare-and-swap, original keys, any value.
    public var capabilities: StoreCapabilities {
        StoreCapabilities(compareAndSwap: true, traversal: .originalKeys)
    }

    /// The number of records held, expired ones not yet dropped included.
    public var count: Int {
        state.withLock { $0.table.count }
    }

    /// How many records have been evicted to respect the capacity.
    public var evictions: Int {
        state.withLock { $0.evictions }
    }

    /// The live record under `key`.
    public func get(_ key: SessionKey) async throws -> Record<Value>? {
        let now = clock.now()
        return state.withLock { state in
            guard let record = state.table.value(for: key) else { return nil }
            if record.hasExpired(at: now) {
                state.table.removeValue(for: key)
                return nil
            }
            return record
        }
    }

    /// Stores `record` under `key`, evicting the least recently used record if full.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Value>) async throws -> RecordVersion? {
        let capacity = configuration.capacity
        return state.withLock { state in
            state.upsert(key, record, capacity: capacity)
        }
    }

    /// Stores `record` if the live record's version is `expected` (or, for `nil`, if there is none).
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Value>
    ) async throws -> RecordVersion? {
        let now = clock.now()
        let capacity = configuration.capacity
        return state.withLock { state in
            var current: RecordVersion?
            if let existing = state.table.value(for: key, touch: false), !existing.hasExpired(at: now) {
                current = existing.version
            }
            guard current == expected else { return nil }
            return state.upsert(key, record, capacity: capacity)
        }
    }

    /// Removes `key`.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        state.withLock { $0.table.removeValue(for: key) != nil }
    }

    /// Moves the expiry of the live record under `key`.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard let record = state.table.value(for: key, touch: false) else { return false }
            if record.hasExpired(at: now) {
                state.table.removeValue(for: key)
                return false
            }
            return state.table.modify(key) { $0.expires = expires }
        }
    }

    /// Removes every expired record; O(number of records).
    public func deleteExpired() async throws -> Int {
        let now = clock.now()
        return state.withLock { state in
            state.table.removeAll { _, record in record.hasExpired(at: now) }.count
        }
    }

    /// The live keys at the moment of the call.
    public func keys() -> KeySnapshot {
        let now = clock.now()
        return KeySnapshot(state.withLock { $0.table.keys { !$0.hasExpired(at: now) } })
    }

    private struct State {
        var table = LRUTable<SessionKey, Record<Value>>()
        var nextVersion: UInt64 = 1
        var evictions = 0

        /// Stores `record` as a new version, evicting the least recently used record when full.
        mutating func upsert(_ key: SessionKey, _ record: Record<Value>, capacity: Int?) -> RecordVersion {
            var stored = record
            let version = RecordVersion(rawValue: nextVersion)
            nextVersion &+= 1
            stored.version = version
            stored.flags = []
            if let capacity, table.count >= capacity, !table.contains(key), table.removeOldest() != nil {
                evictions += 1
            }
            table.update(stored, for: key)
            return version
        }
    }
}
