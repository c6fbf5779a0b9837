// CustomLayer: two layers written outside the library — an audit trail over session values and a
// size limit over bytes — composed with the built-in ones, in code and from a configuration string.
//
//     swift run CustomLayer

import Serializers
import SessionPipeline

let clock = ManualClock(now: SystemClock().now())
let journal = AuditJournal()

// In code: the custom layers sit where their record types fit, checked by the compiler.
let store = try SessionStore.pipeline()
    .audited(into: journal)  // session values
    .serialized(.binary)
    .sizeLimited(to: 512)  // bytes
    .compressed(.zstd())
    .driver(MemoryDriver<[UInt8]>(clock: clock))
print("composed in code: \(store.configuration)")

let id = SessionID.random()
try await store.save(["user": "alice", "cart": ["SKU-1", "SKU-2"]], for: id, expires: clock.now() + .seconds(60))
clock.advance(by: .seconds(30))
try await store.touch(.session(id), expires: clock.now() + .seconds(60))
do {
    try await store.save(["blob": .bytes(Array(repeating: 7, count: 900))], for: SessionID.random(), expires: nil)
} catch let error as SessionError {
    print("refused by the size limit: \(error.code) — \(error.message)")
}
try await store.destroy(id)
clock.advance(by: .seconds(3600))
_ = try await store.deleteExpired()

print("audit journal:")
for event in journal.entries {
    print("  \(event)")
}

// From a configuration string: register the layers' names, and they join the grammar.
var registry = ConfigurationRegistry.standard
let configuredJournal = AuditJournal()
registry.register(valueLayer: "audit") { component in
    try component.allowArguments([])
    return AuditTrail<SessionValue>(journal: configuredJournal)
}
registry.register(byteLayer: "size-limit") { component in
    try component.allowArguments(["max"])
    return SizeLimit(maximumBytes: try component.integer("max", in: 1...(1 << 30)) ?? 65_536)
}
let configured = try registry.store("driver:memory;serializer:json;audit:;size-limit:max=4096", clock: clock)
try await configured.save(["user": "bob"], for: SessionID.random(), expires: nil)
print("from a configuration string: \(configured.configuration)")
print("its journal: \(configuredJournal.entries.map(\.description).joined(separator: "; "))")
