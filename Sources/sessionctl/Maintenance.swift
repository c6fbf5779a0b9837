import ArgumentParser
import Foundation
import Serializers
import SessionPipeline

#if SQLite
    import SessionPipelineSQLite
#endif
#if PostgreSQL
    import SessionPipelinePostgres
#endif

/// `sessionctl purge`: delete expired sessions.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the expired sessions of a store.",
        discussion: """
            Shows a progress bar on a terminal and prints `removed N of M in T s`, where M counts the
            sessions the store held (N removed plus those left).
            """)

    @Option(help: "The store's configuration string.")
    var store: String

    @OptionGroup var progressOptions: ProgressOptions

    func run() async throws {
        try await running {
            let opened = try await OpenedStore(store)
            let progress = Progress("purge", progressOptions)
            let start = ContinuousClock.now
            let removed = try await deleteExpired(opened.driver.base) { progress.update($0, of: $1) }
            progress.finish()
            let remaining = try await opened.keys().count
            print("removed \(removed) of \(removed + remaining) in \(seconds(since: start)) s")
        }
    }

    /// The driver's own delete-expired, with progress where the driver reports it.
    private func deleteExpired(
        _ driver: any RecordStore<[UInt8]>, progress: @escaping @Sendable (Int, Int) -> Void
    ) async throws -> Int {
        if let file = driver as? FileDriver { return try await file.deleteExpired(progress: progress) }
        #if SQLite
            if let sqlite = driver as? SQLiteDriver {
                return try await sqlite.deleteExpired(
                    batchSize: sqlite.configuration.deleteBatchSize, progress: progress)
            }
        #endif
        #if PostgreSQL
            if let postgres = driver as? PostgresDriver {
                return try await postgres.deleteExpired(batchSize: postgres.deleteBatchSize, progress: progress)
            }
        #endif
        return try await driver.deleteExpired()
    }
}

/// `sessionctl rekey`: re-seal every session under the primary key.
struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-seal every stored session under the key ring's primary key (after a rotation).",
        discussion: """
            The store's encrypt component names the ring, new key first. Each session sealed under an
            older key is read and written back, keeping its expiry; with compare-and-swap a session
            the application changed meanwhile is left as the application wrote it (already under the
            primary key). Resumable: a run that is stopped leaves every session whole, sealed under
            the old key or the new one, and the next run finishes the job. Prints
            `re-sealed N of M in T s`.
            """)

    @Option(help: "The store's configuration string, with the new key ring.")
    var store: String

    @OptionGroup var progressOptions: ProgressOptions

    func run() async throws {
        try await running {
            let opened = try await OpenedStore(store)
            let keys = try await opened.originalKeys("rekey")
            let progress = Progress("rekey", progressOptions)
            let start = ContinuousClock.now
            let swap = opened.store.capabilities.compareAndSwap
            var resealed = 0
            var current = 0
            var gone = 0
            for (index, key) in keys.enumerated() {
                defer { progress.update(index + 1, of: keys.count) }
                guard let record = try await opened.store.record(key) else {
                    gone += 1
                    continue
                }
                guard record.flags.contains(.needsReseal) else {
                    current += 1
                    continue
                }
                let fresh = Record(record.value, expires: record.expires)
                if swap {
                    if try await opened.store.base.compareAndSwap(key, expecting: record.version, with: fresh) == nil {
                        current += 1
                        continue
                    }
                } else {
                    try await opened.store.base.set(key, to: fresh)
                }
                resealed += 1
            }
            progress.finish()
            print(
                "re-sealed \(resealed) of \(keys.count) in \(seconds(since: start)) s "
                    + "(\(current) already under the primary key, \(gone) expired or gone)")
        }
    }
}

/// `sessionctl migrate`: copy every live session to another store.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every live session from one store to another, verifying each copy.",
        discussion: """
            Any driver, serializer, compression or key on either side. Each copy keeps its expiry and is
            read back from the target and compared with the original; a copy that differs stops the
            run with status 1. Running it again copies everything again (a session is overwritten by
            the same value). Prints `copied N of M in T s`.
            """)

    @Option(help: "The source store's configuration string.")
    var from: String

    @Option(help: "The target store's configuration string.")
    var to: String

    @OptionGroup var progressOptions: ProgressOptions

    func run() async throws {
        try await running {
            let source = try await OpenedStore(from)
            let target = try await OpenedStore(to)
            let keys = try await source.originalKeys("migrate")
            let progress = Progress("migrate", progressOptions)
            let start = ContinuousClock.now
            var copied = 0
            var gone = 0
            for (index, key) in keys.enumerated() {
                defer { progress.update(index + 1, of: keys.count) }
                guard let record = try await source.store.record(key) else {
                    gone += 1
                    continue
                }
                try await target.store.set(key, record.value, expires: record.expires)
                guard let copy = try await target.store.record(key), copy.value == record.value,
                    copy.expires == record.expires
                else {
                    throw Failure.refused("the copy of session \(index + 1) of \(keys.count) does not read back equal")
                }
                copied += 1
            }
            progress.finish()
            print("copied \(copied) of \(keys.count) in \(seconds(since: start)) s (\(gone) expired or gone)")
        }
    }
}

/// `sessionctl stats`: what a store holds.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count a store's sessions and show their sizes, serializers and key ids.",
        discussion: """
            Reads the stored bytes through the store's driver. The serializer of an encrypted session is
            known only with its keys: the store's encrypt component provides them (or give
            --keys-env/--keys-file).
            """)

    @Option(help: "The store's configuration string.")
    var store: String

    @OptionGroup var keys: KeyOptions

    @OptionGroup var progressOptions: ProgressOptions

    func run() async throws {
        try await running {
            let opened = try await OpenedStore(store)
            let ring = try keys.ring() ?? ringFromConfiguration(store)
            var live = 0
            var expired = 0
            var sizes: [Int] = []
            var serializers: [String: Int] = [:]
            var keyIDs: [String: Int] = [:]
            let now = opened.store.clock.now()
            let keys = try await opened.keys()
            let progress = Progress("stats", progressOptions)
            for (index, key) in keys.enumerated() {
                defer { progress.update(index + 1, of: keys.count) }
                guard let record = try await opened.driver.get(key) else {
                    expired += 1
                    continue
                }
                live += 1
                sizes.append(record.value.count)
                let (serializer, keyID) = describe(record.value, key: key, ring: ring, now: now)
                serializers[serializer, default: 0] += 1
                keyIDs[keyID, default: 0] += 1
            }
            progress.finish()
            if let rows = try await rowCount(opened.driver.base) { expired = max(expired, rows - live) }
            sizes.sort()
            func percentile(_ fraction: Double) -> Int {
                sizes.isEmpty ? 0 : sizes[min(sizes.count - 1, Int(Double(sizes.count) * fraction))]
            }
            func mix(_ counts: [String: Int]) -> String {
                counts.isEmpty
                    ? "none"
                    : counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
                        .joined(separator: ", ")
            }
            print(
                """
                sessions: \(live) live, \(expired) expired (not yet purged)
                stored bytes: min \(sizes.first ?? 0), median \(percentile(0.5)), p90 \(percentile(0.9)), \
                p99 \(percentile(0.99)), max \(sizes.last ?? 0), total \(sizes.reduce(0, +))
                serializers: \(mix(serializers))
                key ids: \(mix(keyIDs))
                """)
        }
    }

    /// The serializer and the key id of stored bytes, as far as they can be read.
    private func describe(_ bytes: [UInt8], key: SessionKey, ring: KeyRing?, now: UnixTime) -> (String, String) {
        guard let first = bytes.first else { return ("empty", "unsealed") }
        switch first {
        case Encryption.version:
            guard let header = try? Encryption.header(of: bytes) else { return ("malformed", "malformed") }
            guard let ring,
                let opened = try? Encryption(keys: ring).open(bytes, context: key.rawValue, now: now),
                let (description, _) = try? describePayload(opened.plaintext)
            else {
                return ("encrypted (not opened)", "\(header.keyID)")
            }
            return (description, "\(header.keyID)")
        case 0x02:
            return ("signed (not read)", "signed")
        default:
            guard let (description, _) = try? describePayload(bytes) else { return ("unknown", "unsealed") }
            return (description, "unsealed")
        }
    }

    /// Rows the driver holds, expired ones included, where it can count them.
    private func rowCount(_ driver: any RecordStore<[UInt8]>) async throws -> Int? {
        #if SQLite
            if let sqlite = driver as? SQLiteDriver { return try await sqlite.count() }
        #endif
        #if PostgreSQL
            if let postgres = driver as? PostgresDriver { return try await postgres.count() }
        #endif
        return nil
    }
}

/// The key ring the configuration's `encrypt` component names (`env=` or `file=`), if it has one,
/// read by the configuration parser itself (escapes and arguments in later segments included).
func ringFromConfiguration(_ configuration: String) throws -> KeyRing? {
    try ConfigurationComponent.parse(configuration).first { $0.kind == "encrypt" }.map { try KeyRing(from: $0) }
}
