// A layer over any kind of record: writes every change to a journal (what, when, which key —
// redacted — and how large), never the values. Walked through in the article "Writing a custom
// layer"; the tests run the conformance suite over it.

import SessionPipeline
import Synchronization

/// One change recorded by an ``AuditTrail``.
struct AuditEvent: Sendable, CustomStringConvertible {
    enum Action: String, Sendable {
        case saved, deleted, touched, swept
    }

    let action: Action
    /// The key, redacted (`session:4Zr8…`), or how many records a sweep removed.
    let subject: String
    let at: UnixTime

    var description: String { "\(at) \(action.rawValue) \(subject)" }
}

/// Where an ``AuditTrail`` writes: kept in memory here; a real one would append to a file or send
/// to a log service.
final class AuditJournal: Sendable {
    private let events = Mutex<[AuditEvent]>([])

    func append(_ event: AuditEvent) {
        events.withLock { $0.append(event) }
    }

    var entries: [AuditEvent] { events.withLock { $0 } }
}

/// The recipe: settings only. Generic over the record value, so it fits above or below the
/// serializer.
struct AuditTrail<Value: Sendable>: SessionLayer {
    typealias Below = Value
    typealias Above = Value

    let journal: AuditJournal

    var name: String { "audit:" }

    func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
        Audited(base: base, journal: journal)
    }
}

/// The store the recipe builds: every operation goes to `base`; changes are journaled after they
/// succeed.
struct Audited<Base: RecordStore>: StoreLayer {
    typealias Keys = Base.Keys

    let base: Base
    let journal: AuditJournal

    // Every operation is forwarded as is, compare-and-swap included, so the base's promises stand.
    var capabilities: StoreCapabilities { base.capabilities }

    func get(_ key: SessionKey) async throws -> Record<Base.Value>? {
        try await base.get(key)
    }

    func set(_ key: SessionKey, to record: Record<Base.Value>) async throws -> RecordVersion? {
        let version = try await base.set(key, to: record)
        journal.append(AuditEvent(action: .saved, subject: key.redacted, at: clock.now()))
        return version
    }

    func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<Base.Value>
    ) async throws -> RecordVersion? {
        let version = try await base.compareAndSwap(key, expecting: expected, with: record)
        if version != nil {
            journal.append(AuditEvent(action: .saved, subject: key.redacted, at: clock.now()))
        }
        return version
    }

    func delete(_ key: SessionKey) async throws -> Bool {
        let deleted = try await base.delete(key)
        if deleted {
            journal.append(AuditEvent(action: .deleted, subject: key.redacted, at: clock.now()))
        }
        return deleted
    }

    func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        let touched = try await base.touch(key, expires: expires)
        if touched {
            journal.append(AuditEvent(action: .touched, subject: key.redacted, at: clock.now()))
        }
        return touched
    }

    func deleteExpired() async throws -> Int {
        let removed = try await base.deleteExpired()
        journal.append(AuditEvent(action: .swept, subject: "\(removed) records", at: clock.now()))
        return removed
    }
}

extension Pipeline {
    /// Adds an ``AuditTrail`` writing to `journal`.
    func audited(into journal: AuditJournal) -> Pipeline<Top, Bottom> {
        layer(AuditTrail<Bottom>(journal: journal))
    }
}
