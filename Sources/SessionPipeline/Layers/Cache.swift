import Synchronization

/// An in-process cache of records, usually at the top of a pipeline: a hit skips the driver,
/// decryption, decompression and deserialization.
///
/// - **Bounds.** At most ``Configuration/maximumEntries`` records and, when set,
///   ``Configuration/maximumBytes`` of estimated memory (values, keys and bookkeeping); the least
///   recently used record is evicted first, in O(1).
/// - **Freshness.** A cached record is served for at most ``Configuration/ttl`` after it was read or
///   written, and never once its own expiry has passed.
/// - **Writes** go through: a write reaches the store below before it is acknowledged, then the
///   cache holds what was written (with its new version). Deletes, touches, failed writes and lost
///   compare-and-swaps update or drop the cached record; delete-expired drops expired ones.
/// - **Single flight.** Concurrent misses for one key make one read of the store below, and all of
///   them get its result; misses for different keys proceed in parallel.
/// - **Counters**: ``statistics``.
///
/// ```swift
/// let cache = SessionCache(entries: 50_000, bytes: 64 << 20, ttl: .seconds(300))
/// let store = try SessionStore.pipeline()
///     .cached(cache)
///     .serialized(.binary)
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// print(cache.statistics)   // hits, misses, loads, evictions…
/// ```
///
/// A `Cache` is one cache: use it in one pipeline (a second ``wrap(_:)`` is a programming error).
///
/// The byte bound counts an estimate that errs high (each string, array and dictionary's heap
/// block, the key, and about 320 bytes of bookkeeping per record). With many threads, glibc's
/// per-thread malloc arenas can hold freed memory apart from each other; set `MALLOC_ARENA_MAX`
/// (for example to 2) if resident memory must track the bound closely.
///
/// - Warning: Each process has its own cache. With several app servers over one shared store, a
///   session deleted or changed by another server can still be served from this cache for up to
///   ``Configuration/ttl`` — a logout elsewhere takes that long to reach this server. Keep the TTL
///   short (seconds to minutes), call ``invalidate(_:)`` when another server reports a change, or
///   leave the cache out where every request must see every other server's writes at once.
public final class Cache<Value: Sendable>: SessionLayer {
    /// The same values below as above.
    public typealias Below = Value
    /// The same values below as above.
    public typealias Above = Value

    /// Settings of a cache.
    public struct Configuration: Sendable {
        /// The most records held.
        public var maximumEntries: Int
        /// The most estimated bytes held (values, keys and bookkeeping), or `nil` for no bound.
        public var maximumBytes: Int?
        /// How long a record is served from the cache after it was read or written.
        public var ttl: Duration

        /// Creates a configuration.
        ///
        /// - Precondition: `maximumEntries` and `maximumBytes` are positive; `ttl` is not negative.
        public init(maximumEntries: Int = 10_000, maximumBytes: Int? = 64 << 20, ttl: Duration = .seconds(300)) {
            precondition(maximumEntries > 0, "a cache holds at least one entry")
            precondition(maximumBytes.map { $0 > 0 } ?? true, "a cache's byte bound must be positive")
            precondition(ttl >= .zero, "a cache's TTL cannot be negative")
            self.maximumEntries = maximumEntries
            self.maximumBytes = maximumBytes
            self.ttl = ttl
        }
    }

    /// What the cache has done so far.
    public struct Statistics: Sendable, Hashable, CustomStringConvertible {
        /// Reads answered from the cache.
        public var hits = 0
        /// Reads not answered from the cache.
        public var misses = 0
        /// Reads of the store below (fewer than misses when concurrent misses share one).
        public var loads = 0
        /// Records evicted to respect the bounds.
        public var evictions = 0
        /// Records dropped because their TTL or expiry passed.
        public var expirations = 0
        /// Records dropped by ``Cache/invalidate(_:)``, deletes and lost compare-and-swaps.
        public var invalidations = 0
        /// Records held now.
        public var entries = 0
        /// Estimated bytes held now.
        public var bytes = 0

        /// One line with every counter.
        public var description: String {
            "hits \(hits), misses \(misses), loads \(loads), evictions \(evictions), expirations \(expirations), "
                + "invalidations \(invalidations), entries \(entries), bytes \(bytes)"
        }
    }

    /// The cache's settings.
    public let configuration: Configuration
    private let cost: @Sendable (Value) -> Int
    let state: Locked<State>
    private let wrapped = Atomic<Bool>(false)

    /// Creates a cache whose byte bound counts each value at `cost(value)` bytes.
    public init(configuration: Configuration = Configuration(), cost: @escaping @Sendable (Value) -> Int) {
        self.configuration = configuration
        self.cost = cost
        self.state = Locked(State())
    }

    /// `cache:entries=10000,bytes=67108864,ttl=300`.
    public var name: String {
        "cache:entries=\(configuration.maximumEntries),bytes=\(configuration.maximumBytes.map(String.init) ?? "none"),"
            + "ttl=\(configuration.ttl.components.seconds)"
    }

    /// Builds the cache over `base`.
    ///
    /// - Precondition: the cache has not been used in another pipeline.
    public func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        precondition(
            !wrapped.exchange(true, ordering: .relaxed),
            "a Cache serves one pipeline; create one cache per pipeline"
        )
        return Cached(base: base, cache: self)
    }

    /// The counters so far.
    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.entries = state.table.count
            statistics.bytes = state.bytes
            return statistics
        }
    }

    /// Drops the record under `key` from the cache, so the next read goes to the store below.
    public func invalidate(_ key: SessionKey) {
        state.withLock { $0.drop(key, counting: \.invalidations) }
    }

    /// Drops every record from the cache.
    public func invalidateAll() {
        state.withLock { state in
            state.statistics.invalidations += state.table.count
            state.table.removeAll()
            state.bytes = 0
            state.loads.removeAll()
        }
    }

    // MARK: State

    struct Entry {
        var record: Record<Value>
        var cachedAt: UnixTime
        var cost: Int
    }

    /// A read of the store below that concurrent misses share. The token tells a load whose key was
    /// written meanwhile (and whose result must not be cached) from the current one.
    struct Load {
        let token: UInt64
        let task: Task<Record<Value>?, any Error>
    }

    struct State {
        var table = LRUTable<SessionKey, Entry>()
        var bytes = 0
        var loads: [SessionKey: Load] = [:]
        var nextToken: UInt64 = 0
        var statistics = Statistics()

        mutating func drop(_ key: SessionKey, counting counter: WritableKeyPath<Statistics, Int>) {
            loads[key] = nil
            if let entry = table.removeValue(for: key) {
                bytes -= entry.cost
                statistics[keyPath: counter] += 1
            }
        }
    }

    /// The fresh record under `key`, counted as a hit, or `nil` (nothing counted: the caller's
    /// slow path decides between an expiration and a miss). Specialized for the two value types
    /// the library caches, so that a hit through a pipeline built of existentials does not look
    /// up generic metadata at run time.
    @_specialize(where Value == SessionValue)
    @_specialize(where Value == [UInt8])
    func hit(_ key: SessionKey, at now: UnixTime) -> Record<Value>? {
        state.withLock { state in
            guard let entry = state.table.value(for: key), isFresh(entry, at: now) else { return nil }
            state.statistics.hits += 1
            return entry.record
        }
    }

    /// Whether `entry` may still be served at `now`.
    func isFresh(_ entry: Entry, at now: UnixTime) -> Bool {
        !entry.record.hasExpired(at: now) && now < entry.cachedAt + configuration.ttl
    }

    /// Caches `record` under `key`, evicting to respect the bounds.
    func insert(_ record: Record<Value>, for key: SessionKey, at now: UnixTime, into state: inout State) {
        guard !record.hasExpired(at: now), configuration.ttl > .zero else { return }
        let entryCost = cost(record.value) + CacheCost.entry(key)
        if let maximumBytes = configuration.maximumBytes, entryCost > maximumBytes { return }
        if let previous = state.table.update(Entry(record: record, cachedAt: now, cost: entryCost), for: key) {
            state.bytes -= previous.cost
        }
        state.bytes += entryCost
        while state.table.count > configuration.maximumEntries
            || configuration.maximumBytes.map({ state.bytes > $0 }) == true
        {
            guard let evicted = state.table.removeOldest() else { break }
            state.bytes -= evicted.value.cost
            state.statistics.evictions += 1
        }
    }
}

/// A store whose reads are answered from a ``Cache`` when it can; built by ``Cache/wrap(_:)``.
public struct Cached<Base: RecordStore>: StoreLayer {
    /// The base's keys.
    public typealias Keys = Base.Keys

    /// The store below.
    public let base: Base
    /// The cache.
    public let cache: Cache<Base.Value>
    /// The base's clock, held here so that a hit does not walk down the layers to find it.
    public let clock: any SessionClock

    init(base: Base, cache: Cache<Base.Value>) {
        self.base = base
        self.cache = cache
        self.clock = base.clock
    }

    /// The base's capabilities, compare-and-swap included when the base has it.
    public var capabilities: StoreCapabilities { base.capabilities }

    private enum Lookup {
        case hit(Record<Base.Value>)
        case load(Task<Record<Base.Value>?, any Error>, token: UInt64?)
    }

    /// The cached record under `key`, or the store's, read once however many ask at the same time.
    public func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        let now = clock.now()
        if let record = cache.hit(key, at: now) { return record }
        let base = self.base
        let lookup = cache.state.withLock { state -> Lookup in
            if let entry = state.table.value(for: key) {
                if cache.isFresh(entry, at: now) {
                    state.statistics.hits += 1
                    return .hit(entry.record)
                }
                state.drop(key, counting: \.expirations)
            }
            state.statistics.misses += 1
            if let load = state.loads[key] {
                return .load(load.task, token: nil)
            }
            state.nextToken += 1
            let token = state.nextToken
            let task = Task { try await base.get(key) }
            state.loads[key] = Cache.Load(token: token, task: task)
            state.statistics.loads += 1
            return .load(task, token: token)
        }
        switch lookup {
        case .hit(let record):
            return record
        case .load(let task, let token):
            let result = await task.result
            if let token {
                cache.state.withLock { state in
                    guard state.loads[key]?.token == token else { return }
                    state.loads[key] = nil
                    if case .success(let record?) = result {
                        cache.insert(record, for: key, at: now, into: &state)
                    }
                }
            }
            return try result.get()
        }
    }

    /// Writes `record` to the store below, then caches it with its new version.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        let version: RecordVersion?
        do {
            version = try await base.set(key, to: record)
        } catch {
            cache.invalidate(key)
            throw error
        }
        remember(record, version: version, for: key)
        return version
    }

    /// Compare-and-swap in the store below; caches the record when it was stored, drops it when
    /// another write came first.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        let version: RecordVersion?
        do {
            version = try await base.compareAndSwap(key, expecting: expected, with: record)
        } catch {
            cache.invalidate(key)
            throw error
        }
        if let version {
            remember(record, version: version, for: key)
        } else {
            cache.invalidate(key)
        }
        return version
    }

    private func remember(_ record: Record<Base.Value>, version: RecordVersion?, for key: SessionKey) {
        var stored = record
        stored.version = version
        stored.flags = []
        let now = clock.now()
        cache.state.withLock { state in
            state.loads[key] = nil
            cache.insert(stored, for: key, at: now, into: &state)
        }
    }

    /// Deletes `key` below and from the cache.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        defer { cache.invalidate(key) }
        return try await base.delete(key)
    }

    /// Moves the expiry below and in the cached record.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        let touched: Bool
        do {
            touched = try await base.touch(key, expires: expires)
        } catch {
            cache.invalidate(key)
            throw error
        }
        cache.state.withLock { state in
            state.loads[key] = nil
            if !touched || !state.table.modify(key, { $0.record.expires = expires }) {
                state.drop(key, counting: \.invalidations)
            }
        }
        return touched
    }

    /// Deletes expired records below and drops expired records from the cache.
    public func deleteExpired() async throws -> Int {
        let removed = try await base.deleteExpired()
        let now = clock.now()
        cache.state.withLock { state in
            let dropped = state.table.removeAll { _, entry in entry.record.hasExpired(at: now) }
            for entry in dropped {
                state.bytes -= entry.value.cost
            }
            state.statistics.expirations += dropped.count
        }
        return removed
    }
}

/// Estimates of the memory a cached record takes, erring high, so that the byte bound holds for
/// the process's real memory.
enum CacheCost {
    /// What the allocator uses for a request of `bytes`: 16-byte granules, 32 bytes at least,
    /// plus its 8-byte header.
    static func allocation(_ bytes: Int) -> Int {
        max(32, (bytes + 8 + 15) & ~15)
    }

    /// A string's heap storage (none for the 15 bytes or fewer Swift keeps inline).
    static func string(_ string: String) -> Int {
        let count = string.utf8.count
        return count <= 15 ? 0 : allocation(32 + count + 1)
    }

    /// A record's bookkeeping: its table slot and index entry (counted twice, since both grow by
    /// doubling), the record itself, and the key's storage.
    static func entry(_ key: SessionKey) -> Int {
        320 + string(key.rawValue)
    }

    /// A session value's heap storage, recursively.
    static func value(_ value: SessionValue) -> Int {
        switch value {
        case .null, .bool, .int, .double, .date: 0
        case .string(let text): string(text)
        case .bytes(let bytes): bytes.isEmpty ? 0 : allocation(32 + bytes.count)
        case .array(let elements):
            allocation(32 + elements.count * MemoryLayout<SessionValue>.stride)
                + elements.reduce(0) { $0 + CacheCost.value($1) }
        case .dictionary(let dictionary):
            allocation(32 + dictionary.count * MemoryLayout<SessionDictionary.Entry>.stride)
                + dictionary.storage.reduce(0) { $0 + string($1.key) + CacheCost.value($1.value) }
        }
    }
}

extension Cache where Value == SessionValue {
    /// A cache of session values, whose byte bound counts each value's estimated memory.
    ///
    /// - Parameters:
    ///   - entries: The most records held. Default 10,000.
    ///   - bytes: The most estimated bytes held, or `nil` for no bound. Default 64 MiB.
    ///   - ttl: How long a record is served from the cache. Default 5 minutes.
    public convenience init(entries: Int = 10_000, bytes: Int? = 64 << 20, ttl: Duration = .seconds(300)) {
        self.init(
            configuration: Configuration(maximumEntries: entries, maximumBytes: bytes, ttl: ttl),
            cost: { CacheCost.value($0) + MemoryLayout<Record<SessionValue>>.stride }
        )
    }
}

extension Cache where Value == [UInt8] {
    /// A cache of bytes, whose byte bound counts each value's length and allocation.
    ///
    /// - Parameters:
    ///   - entries: The most records held. Default 10,000.
    ///   - bytes: The most estimated bytes held, or `nil` for no bound. Default 64 MiB.
    ///   - ttl: How long a record is served from the cache. Default 5 minutes.
    public convenience init(entries: Int = 10_000, bytes: Int? = 64 << 20, ttl: Duration = .seconds(300)) {
        self.init(
            configuration: Configuration(maximumEntries: entries, maximumBytes: bytes, ttl: ttl),
            cost: { $0.isEmpty ? 0 : CacheCost.allocation(32 + $0.count) }
        )
    }
}

/// A cache of session values.
public typealias SessionCache = Cache<SessionValue>

extension Pipeline {
    /// Adds `cache` below the layers added so far.
    public func cached(_ cache: Cache<Bottom>) -> Pipeline<Top, Bottom> {
        layer(cache)
    }
}
