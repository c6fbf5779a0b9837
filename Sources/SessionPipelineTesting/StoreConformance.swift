public import SessionPipeline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The conformance suite: checks that a driver, or any stack of layers over a driver, keeps every
/// promise of ``SessionPipeline/RecordStore``.
///
/// Plain functions, callable from any test framework. Give it a factory that returns a **new,
/// empty** store using the clock it is handed; each check runs on a fresh store, so a factory over
/// a file system should make a new directory each time.
///
/// ```swift
/// @Test func myDriverConforms() async throws {
///     let report = try await StoreConformance.run { clock in
///         MyDriver(clock: clock)
///     }
///     print(report)
/// }
/// ```
///
/// The suite asks the store what it promises (``StoreCapabilities``: the value kinds it holds,
/// whether ``RecordStore/keys()`` yields original or stored keys, compare-and-swap, the longest key)
/// and checks exactly that:
/// - set-then-get returns an equal value and expiry, for every value kind and edge case, and for
///   seeded random values (the seed is in the report and in any failure);
/// - kinds the store does not hold are refused at write time, and nothing is stored;
/// - missing is `nil`; delete, overwrite, touch;
/// - expiry with the injected clock (no sleeping): a record is gone once the clock reaches its
///   expiry, and delete-expired removes and counts exactly the expired ones;
/// - traverse lists exactly what was stored;
/// - compare-and-swap, when announced, and a refusal with ``SessionError/Code/unsupported`` when not;
/// - unusual but valid keys work, and invalid keys are refused;
/// - many concurrent tasks on distinct keys lose nothing.
///
/// A failed check throws ``ConformanceFailure``.
public enum StoreConformance {
    /// How hard the suite works.
    public struct Options: Sendable {
        /// Concurrent tasks in the concurrency check. Default 1,000.
        public var concurrentTasks: Int
        /// Operations per task in the concurrency check. Default 100.
        public var operationsPerTask: Int
        /// Random values round-tripped. Default 100.
        public var randomValues: Int
        /// The seed for random values; `nil` takes `SESSION_TEST_SEED` or a random one.
        public var seed: UInt64?

        /// Creates options. The environment variables `SESSION_CONFORMANCE_TASKS` and
        /// `SESSION_CONFORMANCE_OPERATIONS`, when set, cap the concurrency check's tasks and
        /// operations per task (for runs under a sanitizer, where each operation costs far more).
        public init(
            concurrentTasks: Int = 1000, operationsPerTask: Int = 100, randomValues: Int = 100, seed: UInt64? = nil
        ) {
            func cap(_ variable: String) -> Int {
                getenv(variable).flatMap { Int(String(cString: $0)) } ?? .max
            }
            self.concurrentTasks = min(concurrentTasks, cap("SESSION_CONFORMANCE_TASKS"))
            self.operationsPerTask = min(operationsPerTask, cap("SESSION_CONFORMANCE_OPERATIONS"))
            self.randomValues = randomValues
            self.seed = seed
        }
    }

    /// The time every check's clock starts at.
    public static let startTime: UnixTime = 1_700_000_000

    /// Runs every check against fresh stores from `makeStore`.
    ///
    /// - Returns: the checks that passed and those skipped (with why), and the random seed.
    /// - Throws: ``ConformanceFailure`` for the first broken promise.
    public static func run<Store: RecordStore>(
        options: Options = Options(),
        _ makeStore: @escaping @Sendable (ManualClock) async throws -> Store
    ) async throws -> ConformanceReport where Store.Value: ConformanceValue {
        let seed = options.seed ?? SeededGenerator.fromEnvironment().seed
        let suite = Suite(makeStore: makeStore, options: options, seed: seed)
        try await suite.runAll()
        return ConformanceReport(seed: seed, passed: suite.passed, skipped: suite.skipped)
    }
}

/// What a conformance run checked.
public struct ConformanceReport: Sendable, CustomStringConvertible {
    /// The seed of the random values; set `SESSION_TEST_SEED` to it to replay them.
    public let seed: UInt64
    /// The checks that passed.
    public let passed: [String]
    /// The checks that did not apply, with the reason.
    public let skipped: [(check: String, reason: String)]

    /// A summary: counts, the seed, and the skipped checks.
    public var description: String {
        var text = "\(passed.count) checks passed, \(skipped.count) skipped (seed \(seed))"
        for (check, reason) in skipped {
            text += "\n  skipped \(check): \(reason)"
        }
        return text
    }
}

/// A broken promise found by ``StoreConformance``.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The check that failed.
    public let check: String
    /// What went wrong.
    public let message: String
    /// The random seed of the run.
    public let seed: UInt64

    /// `check: message (seed N)`.
    public var description: String {
        "conformance check '\(check)' failed: \(message) (seed \(seed); replay with SESSION_TEST_SEED=\(seed))"
    }
}

private final class Suite<Store: RecordStore> where Store.Value: ConformanceValue {
    typealias Value = Store.Value

    let makeStore: @Sendable (ManualClock) async throws -> Store
    let options: StoreConformance.Options
    let seed: UInt64
    var passed: [String] = []
    var skipped: [(check: String, reason: String)] = []
    private var currentCheck = ""

    init(
        makeStore: @escaping @Sendable (ManualClock) async throws -> Store, options: StoreConformance.Options,
        seed: UInt64
    ) {
        self.makeStore = makeStore
        self.options = options
        self.seed = seed
    }

    // MARK: Plumbing

    private func fail(_ message: String) -> ConformanceFailure {
        ConformanceFailure(check: currentCheck, message: message, seed: seed)
    }

    private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw fail(message()) }
    }

    private func fresh() async throws -> (Store, ManualClock) {
        let clock = ManualClock(now: StoreConformance.startTime)
        return (try await makeStore(clock), clock)
    }

    private func key(_ text: String) throws -> SessionKey {
        try SessionKey(text)
    }

    private func expectSessionError(
        _ code: SessionError.Code,
        _ what: String,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as SessionError {
            try expect(error.code == code, "\(what): expected error code \(code), got \(error.code) (\(error))")
            return
        } catch {
            throw fail("\(what): expected a SessionError with code \(code), got \(type(of: error)): \(error)")
        }
        throw fail("\(what): expected error code \(code), but it succeeded")
    }

    private func listKeys(_ store: Store) async throws -> [SessionKey] {
        var keys: [SessionKey] = []
        for try await key in store.keys() {
            keys.append(key)
        }
        return keys
    }

    private func check(_ name: String, _ body: () async throws -> Void) async throws {
        currentCheck = name
        do {
            try await body()
        } catch let failure as ConformanceFailure {
            throw failure
        } catch {
            throw fail("unexpected error: \(error)")
        }
        passed.append(name)
    }

    private func skip(_ name: String, _ reason: String) {
        skipped.append((name, reason))
    }

    // MARK: Checks

    func runAll() async throws {
        let capabilities = try await fresh().0.capabilities

        try await check("set then get returns an equal value and expiry, for every kind") {
            let (store, clock) = try await fresh()
            let expiry = clock.now() + .seconds(3600)
            for (index, sample) in Value.samples(for: capabilities).enumerated() {
                let key = try key("session:sample-\(index)")
                try await store.set(key, to: Record(sample.value, expires: index % 2 == 0 ? expiry : nil))
                guard let record = try await store.get(key) else { throw fail("\(sample.name): read back nil") }
                try expect(record.value == sample.value, "\(sample.name): read back a different value")
                try expect(
                    record.expires == (index % 2 == 0 ? expiry : nil),
                    "\(sample.name): expiry \(String(describing: record.expires)) was not preserved"
                )
            }
        }

        let refused = Value.refused(for: capabilities)
        if refused.isEmpty {
            skip("kinds the store cannot hold are refused", "the store holds every kind")
        } else {
            try await check("kinds the store cannot hold are refused at write time") {
                let (store, _) = try await fresh()
                for (index, sample) in refused.enumerated() {
                    let key = try key("session:refused-\(index)")
                    try await expectSessionError(.invalidValue, "storing \(sample.name)") {
                        try await store.set(key, to: Record(sample.value))
                    }
                    try expect(try await store.get(key) == nil, "\(sample.name): something was stored anyway")
                }
            }
        }

        try await check("seeded random values round-trip") {
            let (store, _) = try await fresh()
            var generator = SeededGenerator(seed: seed)
            for index in 0..<options.randomValues {
                let value = Value.random(using: &generator, capabilities: capabilities)
                let key = try key("session:random-\(index)")
                try await store.set(key, to: Record(value))
                try expect(try await store.get(key)?.value == value, "random value \(index) did not round-trip")
            }
        }

        try await check("missing is nil, not an error") {
            let (store, _) = try await fresh()
            let key = try key("session:never-stored")
            try expect(try await store.get(key) == nil, "get of a missing key returned a record")
            try expect(try await store.delete(key) == false, "delete of a missing key reported a removal")
            try expect(
                try await store.touch(key, expires: nil) == false,
                "touch of a missing key reported success"
            )
        }

        try await check("set replaces and delete removes") {
            let (store, _) = try await fresh()
            let key = try key("session:replace")
            try await store.set(key, to: Record(Value.distinct(1)))
            try await store.set(key, to: Record(Value.distinct(2)))
            try expect(
                try await store.get(key)?.value == Value.distinct(2), "the second write did not replace the first")
            try expect(try await store.delete(key), "delete did not report the removal")
            try expect(try await store.get(key) == nil, "the record is still there after delete")
            try expect(try await store.delete(key) == false, "a second delete reported a removal")
        }

        try await check("keys with every prefix and unusual but valid characters work") {
            let (store, _) = try await fresh()
            let room = capabilities.maximumKeyLength - "user:".utf8.count
            var texts = [
                "session:abc", "expires:abc", "flash:abc", "user:alice", "user:jane doe@example.com",
                "user:id:with:colons", "custom_prefix-2:x", "session:.", "session:a.b.c", "user:日本語🌍",
                "session:\u{00A0}nbsp", "user:" + String(repeating: "k", count: room),
            ]
            texts.append("user:" + String(repeating: "é", count: room / 2))
            var keys: [SessionKey] = []
            for (index, text) in texts.enumerated() {
                let key = try key(text)
                keys.append(key)
                try await store.set(key, to: Record(Value.distinct(index)))
            }
            for (index, key) in keys.enumerated() {
                try expect(
                    try await store.get(key)?.value == Value.distinct(index),
                    "key #\(index) (\(key.rawValue.utf8.count) bytes) did not round-trip"
                )
            }
            if capabilities.traversal == .originalKeys {
                let listed = Set(try await listKeys(store))
                try expect(listed == Set(keys), "traverse listed \(listed.count) keys, expected \(keys.count)")
            }
        }

        try await check("invalid keys are refused") {
            let bad = [
                "", "session", ":abc", "session:", "session:../../etc/passwd", "session:a/b", "session:a\\b",
                "session:..", "session:a\u{0}b", "session:line\nbreak", "session:tab\there", "session:\u{7F}",
                "session:\u{85}", "bad prefix:x", "sessi/on:x", "session:" + String(repeating: "x", count: 300),
            ]
            for text in bad {
                try await expectSessionError(.invalidKey, "key of \(text.utf8.count) bytes") {
                    _ = try SessionKey(text)
                }
            }
            if capabilities.maximumKeyLength < SessionKey.maximumLength {
                let (store, _) = try await fresh()
                let tooLong = try key("user:" + String(repeating: "k", count: capabilities.maximumKeyLength + 1 - 5))
                try await expectSessionError(.invalidKey, "a key longer than the store's maximum") {
                    try await store.set(tooLong, to: Record(Value.distinct(0)))
                }
            }
        }

        try await check("a record is gone once the clock reaches its expiry") {
            let (store, clock) = try await fresh()
            let expiring = try key("session:expiring")
            let forever = try key("session:forever")
            try await store.set(expiring, to: Record(Value.distinct(1), expires: clock.now() + .seconds(10)))
            try await store.set(forever, to: Record(Value.distinct(2)))
            clock.advance(by: .seconds(9))
            try expect(try await store.get(expiring) != nil, "the record expired a second early")
            clock.advance(by: .seconds(1))
            try expect(try await store.get(expiring) == nil, "the record outlived its expiry")
            try expect(
                try await store.touch(expiring, expires: clock.now() + .seconds(100)) == false,
                "touch revived an expired record"
            )
            try expect(try await store.get(expiring) == nil, "touch revived an expired record")
            clock.advance(by: .seconds(86_400 * 365))
            try expect(try await store.get(forever)?.value == Value.distinct(2), "a record without expiry expired")
        }

        try await check("touch moves the expiry and keeps the value") {
            let (store, clock) = try await fresh()
            let key = try key("session:touched")
            try await store.set(key, to: Record(Value.distinct(7), expires: clock.now() + .seconds(10)))
            let later = clock.now() + .seconds(100)
            try expect(try await store.touch(key, expires: later), "touch of a live record failed")
            clock.advance(by: .seconds(50))
            guard let record = try await store.get(key) else { throw fail("the touched record expired early") }
            try expect(record.value == Value.distinct(7), "touch changed the value")
            try expect(record.expires == later, "touch did not store the new expiry")
            try expect(try await store.touch(key, expires: nil), "touch to no expiry failed")
            clock.advance(by: .seconds(86_400))
            try expect(try await store.get(key)?.expires == .some(nil), "touch to no expiry did not stick")
        }

        try await check("delete-expired removes and counts exactly the expired records") {
            let (store, clock) = try await fresh()
            let now = clock.now()
            for index in 0..<5 {
                try await store.set(
                    try key("session:short-\(index)"),
                    to: Record(Value.distinct(index), expires: now + .seconds(10))
                )
            }
            for index in 0..<3 {
                try await store.set(
                    try key("session:long-\(index)"),
                    to: Record(Value.distinct(index), expires: now + .seconds(1000))
                )
            }
            for index in 0..<2 {
                try await store.set(try key("session:none-\(index)"), to: Record(Value.distinct(index)))
            }
            try expect(try await store.deleteExpired() == 0, "delete-expired removed live records")
            clock.advance(by: .seconds(10))
            let removed = try await store.deleteExpired()
            try expect(removed == 5, "delete-expired removed \(removed) records, expected 5")
            try expect(try await store.deleteExpired() == 0, "a second delete-expired removed more")
            for index in 0..<3 {
                try expect(try await store.get(try key("session:long-\(index)")) != nil, "a live record was removed")
            }
            for index in 0..<2 {
                try expect(try await store.get(try key("session:none-\(index)")) != nil, "a record was removed")
            }
            if capabilities.traversal != .unsupported {
                let listed = try await listKeys(store)
                try expect(listed.count == 5, "traverse lists \(listed.count) keys after delete-expired, expected 5")
            }
        }

        switch capabilities.traversal {
        case .unsupported:
            skip("traverse lists exactly what was stored", "the store cannot list its keys")
        case .originalKeys, .storedKeys:
            let original = capabilities.traversal == .originalKeys
            try await check("traverse lists exactly what was stored") {
                let (store, _) = try await fresh()
                try expect(try await listKeys(store).isEmpty, "a new store lists keys")
                var stored: [SessionKey] = []
                for index in 0..<60 {
                    let prefix = ["session", "flash", "expires", "user"][index % 4]
                    let key = try key("\(prefix):traverse-\(index)")
                    stored.append(key)
                    try await store.set(key, to: Record(Value.distinct(index)))
                }
                for key in stored.prefix(10) {
                    try await store.delete(key)
                }
                let expected = Set(stored.dropFirst(10))
                let listed = try await listKeys(store)
                try expect(Set(listed).count == listed.count, "traverse listed a key twice")
                if original {
                    try expect(Set(listed) == expected, "traverse listed \(listed.count) keys, not the 50 stored")
                } else {
                    try expect(listed.count == expected.count, "traverse listed \(listed.count) keys, expected 50")
                }
            }
        }

        if capabilities.compareAndSwap {
            try await check("compare-and-swap succeeds only against the current version") {
                let (store, clock) = try await fresh()
                let key = try key("session:cas")
                let v1 = try await store.compareAndSwap(key, expecting: nil, with: Record(Value.distinct(1)))
                try expect(v1 != nil, "compare-and-swap on a missing record, expecting none, failed")
                guard let first = try await store.get(key) else { throw fail("the swapped record did not read back") }
                try expect(first.version == v1, "a read reports another version than the swap returned")
                try expect(
                    try await store.compareAndSwap(key, expecting: nil, with: Record(Value.distinct(9))) == nil,
                    "compare-and-swap expecting no record replaced an existing one"
                )
                let v2 = try await store.compareAndSwap(key, expecting: v1, with: Record(Value.distinct(2)))
                try expect(v2 != nil, "compare-and-swap against the current version failed")
                guard let second = try await store.get(key) else { throw fail("the record vanished") }
                try expect(second.value == Value.distinct(2), "compare-and-swap did not store the value")
                try expect(second.version == v2 && v2 != v1, "a write did not change the version")
                try expect(
                    try await store.compareAndSwap(key, expecting: v1, with: Record(Value.distinct(3))) == nil,
                    "compare-and-swap against a stale version succeeded"
                )
                try expect(try await store.get(key)?.value == Value.distinct(2), "a failed swap changed the value")
                let v3 = try await store.set(key, to: Record(Value.distinct(4), expires: clock.now() + .seconds(5)))
                try expect(v3 != nil && v3 != v2, "set did not return the record's new version")
                try expect(try await store.get(key)?.version == v3, "a read reports another version than set returned")
                clock.advance(by: .seconds(5))
                try expect(
                    try await store.compareAndSwap(key, expecting: nil, with: Record(Value.distinct(5))) != nil,
                    "compare-and-swap expecting none failed over an expired record"
                )
            }
        } else {
            try await check("compare-and-swap is refused when not announced") {
                let (store, _) = try await fresh()
                try await expectSessionError(.unsupported, "compare-and-swap") {
                    _ = try await store.compareAndSwap(
                        try key("session:x"), expecting: nil, with: Record(Value.distinct(0)))
                }
            }
        }

        try await check(
            "\(options.concurrentTasks) concurrent tasks x \(options.operationsPerTask) operations on distinct keys lose nothing"
        ) {
            let (store, _) = try await fresh()
            let tasks = options.concurrentTasks
            let operations = options.operationsPerTask
            let outcomes = try await withThrowingTaskGroup(of: (Int, [Int?], String?).self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        let keys = try (0..<4).map { try SessionKey("session:task-\(task)-\($0)") }
                        var expected: [Int?] = [nil, nil, nil, nil]
                        for step in 0..<operations {
                            let slot = step % 4
                            if step % 7 == 6 {
                                try await store.delete(keys[slot])
                                expected[slot] = nil
                            } else {
                                let value = task * operations + step
                                try await store.set(keys[slot], to: Record(Value.distinct(value)))
                                expected[slot] = value
                            }
                            let read = try await store.get(keys[slot])?.value
                            if read != expected[slot].map(Value.distinct) {
                                return (task, expected, "task \(task) step \(step) read back the wrong value")
                            }
                        }
                        return (task, expected, nil)
                    }
                }
                var outcomes: [(Int, [Int?], String?)] = []
                for try await outcome in group {
                    outcomes.append(outcome)
                }
                return outcomes
            }
            let failures = outcomes.compactMap(\.2)
            try expect(failures.isEmpty, "\(failures.count) tasks read wrong values; first: \(failures.first ?? "")")
            // Once every task has finished, every task's last write must still be there.
            for (task, expected, _) in outcomes {
                for slot in 0..<4 {
                    let read = try await store.get(try key("session:task-\(task)-\(slot)"))?.value
                    try expect(
                        read == expected[slot].map(Value.distinct), "task \(task) lost its value under key \(slot)")
                }
            }
        }
    }
}
