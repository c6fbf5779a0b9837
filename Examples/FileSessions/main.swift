// FileSessions: an encrypted session store composed over the file driver, used the way a web
// application would use it, printing each step.
//
//     swift run FileSessions [--root DIRECTORY]
//
// Keys come from SESSION_KEYS ("ID:BASE64,…", primary first); without it the demo makes an
// ephemeral key and says so. Without --root it works in a new temporary directory and removes it
// at the end.

import Foundation
import Serializers
import SessionPipeline

struct CartItem: Codable {
    var sku: String
    var name: String
    var quantity: Int
    var unitPrice: Double
}

func step(_ text: String) {
    print("• " + text)
}

let arguments = CommandLine.arguments
let keepRoot = arguments.firstIndex(of: "--root").map { arguments[$0 + 1] }
let root =
    keepRoot
    ?? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("file-sessions-\(UUID().uuidString)").path

// Start-up: compose the store once. Time comes from one clock; a manual clock here, so the demo
// can show expiry without waiting.
let keys: KeyRing
if ProcessInfo.processInfo.environment["SESSION_KEYS"] != nil {
    keys = try KeyRing(environment: "SESSION_KEYS")
    step("keys: \(keys) from SESSION_KEYS")
} else {
    keys = KeyRing(id: 1, key: SecretKey.random())
    step("keys: SESSION_KEYS is not set, so an ephemeral key (id 1) was generated for this run")
}
let clock = ManualClock(now: SystemClock().now())
let driver = try FileDriver(root: root, clock: clock)
let store = try SessionStore.pipeline()
    .namespaced("shop")
    .serialized(.binary)
    .compressed(.zstd(), threshold: 128)
    .encrypted(with: keys)
    .driver(driver)
step("store: " + store.layerNames.joined(separator: " → "))
step("root: \(root)")

// A visitor arrives: a new session with a cart.
let id = SessionID.random()
var session = SessionDictionary()
session["user"] = "jane.doe"
session["roles"] = ["customer", "beta-tester"]
session["last_seen"] = SessionValue(Date())
try session.set(
    [
        CartItem(sku: "SKU-91598", name: "Digital Scale", quantity: 1, unitPrice: 91.57),
        CartItem(sku: "SKU-93981", name: "Aeropress", quantity: 2, unitPrice: 84.13),
    ],
    for: "cart"
)
let expires = clock.now() + .seconds(30 * 60)
try await store.save(session, for: id, expires: expires)
try await store.set(.flash(id), ["message": "Added to your cart."], expires: expires)
step("saved session \(id) (\(session.count) keys) and its flash message, expiring in 30 minutes")

var files: [String] = []
for try await key in driver.keys() {
    files.append(key.rawValue.replacingOccurrences(of: id.rawValue, with: id.description))
}
step("the driver holds \(files.count) records: \(files.sorted().joined(separator: ", "))")

// What reached the disk: an envelope, not the session.
let stored = try await driver.get(SessionKey(prefix: "shop", id: SessionKey.session(id).rawValue))!
let header = try Encryption.header(of: stored.value)
step(
    "on disk: \(stored.value.count) bytes, envelope version \(header.version), key id \(header.keyID), "
        + "expiry \(header.expires.map(String.init(describing:)) ?? "none"); the plaintext never touches the disk"
)

// The next request reads it back.
guard let loaded = try await store.load(id) else {
    fatalError("the session just saved did not load")
}
let cart = try loaded.get([CartItem].self, "cart") ?? []
let total = cart.reduce(0) { $0 + Double($1.quantity) * $1.unitPrice }
step("loaded: user \(loaded["user"]?.stringValue ?? "?"), \(cart.count) cart items, total \(total)")
step("round trip exact: \(loaded == session)")

// Key rotation: a new primary key, the old one kept so that no one is logged out.
let rotated = try KeyRing(primary: .init(id: keys.primary.id + 1, key: SecretKey.random()), older: keys.entries)
let rotatedStore = try SessionStore.pipeline()
    .namespaced("shop")
    .serialized(.binary)
    .compressed(.zstd(), threshold: 128)
    .encrypted(with: rotated, configuration: .init(resealOnRead: true))
    .driver(driver)
let record = try await rotatedStore.record(.session(id))!
step(
    "rotated to key \(rotated.primary.id): the session still opens (needs re-seal: "
        + "\(record.flags.contains(.needsReseal))) and was re-sealed on read; the driver now holds key id "
        + "\(try Encryption.header(of: try await driver.get(SessionKey(prefix: "shop", id: SessionKey.session(id).rawValue))!.value).keyID)"
)

// Tampering is detected, never read as someone's session.
var tampered = try await driver.get(SessionKey(prefix: "shop", id: SessionKey.session(id).rawValue))!
tampered.value[tampered.value.count / 2] ^= 0x01
try await driver.set(SessionKey(prefix: "shop", id: SessionKey.flash(id).rawValue), to: tampered)
do {
    _ = try await rotatedStore.get(.flash(id))
} catch let error as SessionError {
    step("a tampered (and moved) envelope is refused: \(error.code) — \(error.message)")
}

// Activity slides the expiry forward.
clock.advance(by: .seconds(20 * 60))
try await rotatedStore.touch(.session(id), expires: clock.now() + .seconds(30 * 60))
step("20 minutes later the visitor is active again; expiry moved 30 minutes ahead")

// Time passes; the session expires and maintenance removes it.
clock.advance(by: .seconds(31 * 60))
step("31 minutes of silence: session \(try await rotatedStore.load(id) == nil ? "is gone" : "is still there")")
let removed = try await rotatedStore.deleteExpired()
step("delete-expired removed \(removed) expired records")

// Bad input is refused before it reaches the disk.
do {
    _ = try SessionKey("session:../../etc/passwd")
} catch let error as SessionError {
    step("a hostile key is refused: \(error.code) — \(error.message)")
}

if keepRoot == nil {
    try FileManager.default.removeItem(atPath: root)
}
step("done")
