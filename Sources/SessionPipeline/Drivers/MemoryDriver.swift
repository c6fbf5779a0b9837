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
public final class MemoryDriver<Value: Sendable>: RecordStore {
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
    private let state: Mutex<State>

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
        self.state = Mutex(State())
    }

    /// Compare-and-swap, original keys, any value.
    public var capabilities: StoreCapabilities {
        StoreCapabilities(compareAndSwap: true, traversal: .originalKeys)
    }

    /// The number of records held, expired ones not yet dropped included.
    public var count: Int {
        state.withLock { $0.index.count }
    }

    /// How many records have been evicted to respect the capacity.
    public var evictions: Int {
        state.withLock { $0.evictions }
    }

    /// The live record under `key`.
    public func get(_ key: SessionKey) async throws -> Record<Value>? {
        let now = clock.now()
        return state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            let record = state.slots[slot].record!
            if record.hasExpired(at: now) {
                state.remove(slot: slot)
                return nil
            }
            state.moveToFront(slot)
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
            if let slot = state.index[key], let existing = state.slots[slot].record, !existing.hasExpired(at: now) {
                current = existing.version
            }
            guard current == expected else { return nil }
            return state.upsert(key, record, capacity: capacity)
        }
    }

    /// Removes `key`.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        state.withLock { state in
            guard let slot = state.index[key] else { return false }
            state.remove(slot: slot)
            return true
        }
    }

    /// Moves the expiry of the live record under `key`.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard let slot = state.index[key] else { return false }
            if state.slots[slot].record!.hasExpired(at: now) {
                state.remove(slot: slot)
                return false
            }
            state.slots[slot].record!.expires = expires
            return true
        }
    }

    /// Removes every expired record; O(number of records).
    public func deleteExpired() async throws -> Int {
        let now = clock.now()
        return state.withLock { state in
            let expired = state.index.values.filter { state.slots[$0].record!.hasExpired(at: now) }
            for slot in expired {
                state.remove(slot: slot)
            }
            return expired.count
        }
    }

    /// The live keys at the moment of the call.
    public func keys() -> KeySnapshot {
        let now = clock.now()
        let keys = state.withLock { state in
            state.index.compactMap { key, slot in
                state.slots[slot].record!.hasExpired(at: now) ? nil : key
            }
        }
        return KeySnapshot(keys)
    }

    /// Records in slots threaded on an index-linked recency list, so lookups, moves and evictions
    /// are all O(1) and freed slots are reused.
    private struct State {
        struct Slot {
            var key: SessionKey?
            var record: Record<Value>?
            var newer = -1
            var older = -1
        }

        var index: [SessionKey: Int] = [:]
        var slots: [Slot] = []
        var freeSlots: [Int] = []
        var newest = -1
        var oldest = -1
        var nextVersion: UInt64 = 1
        var evictions = 0

        @discardableResult
        mutating func upsert(_ key: SessionKey, _ record: Record<Value>, capacity: Int?) -> RecordVersion {
            var stored = record
            let version = RecordVersion(rawValue: nextVersion)
            stored.version = version
            stored.flags = []
            nextVersion &+= 1
            if let slot = index[key] {
                slots[slot].record = stored
                moveToFront(slot)
                return version
            }
            if let capacity, index.count >= capacity, oldest >= 0 {
                remove(slot: oldest)
                evictions += 1
            }
            let slot: Int
            if let free = freeSlots.popLast() {
                slot = free
                slots[slot] = Slot(key: key, record: stored)
            } else {
                slot = slots.count
                slots.append(Slot(key: key, record: stored))
            }
            index[key] = slot
            link(slot)
            return version
        }

        mutating func remove(slot: Int) {
            unlink(slot)
            if let key = slots[slot].key {
                index[key] = nil
            }
            slots[slot] = Slot()
            freeSlots.append(slot)
        }

        mutating func moveToFront(_ slot: Int) {
            guard newest != slot else { return }
            unlink(slot)
            link(slot)
        }

        private mutating func link(_ slot: Int) {
            slots[slot].older = newest
            slots[slot].newer = -1
            if newest >= 0 {
                slots[newest].newer = slot
            }
            newest = slot
            if oldest < 0 {
                oldest = slot
            }
        }

        private mutating func unlink(_ slot: Int) {
            let newer = slots[slot].newer
            let older = slots[slot].older
            if newer >= 0 { slots[newer].older = older } else { newest = older }
            if older >= 0 { slots[older].newer = newer } else { oldest = newer }
            slots[slot].newer = -1
            slots[slot].older = -1
        }
    }
}
