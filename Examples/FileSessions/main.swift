// FileSessions: a session store composed over the file driver, used the way a web application
// would use it, printing each step.
//
//     swift run FileSessions [--root DIRECTORY]
//
// Without --root it works in a new temporary directory and removes it at the end.

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
let clock = ManualClock(now: SystemClock().now())
let driver = try FileDriver(root: root, clock: clock)
let store = try SessionStore.pipeline()
    .namespaced("shop")
    .serialized(.json)
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

// The next request reads it back.
guard let loaded = try await store.load(id) else {
    fatalError("the session just saved did not load")
}
let cart = try loaded.get([CartItem].self, "cart") ?? []
let total = cart.reduce(0) { $0 + Double($1.quantity) * $1.unitPrice }
step("loaded: user \(loaded["user"]?.stringValue ?? "?"), \(cart.count) cart items, total \(total)")
step("round trip exact: \(loaded == session)")

// Activity slides the expiry forward.
clock.advance(by: .seconds(20 * 60))
try await store.touch(.session(id), expires: clock.now() + .seconds(30 * 60))
step("20 minutes later the visitor is active again; expiry moved 30 minutes ahead")

// Time passes; the session expires and maintenance removes it.
clock.advance(by: .seconds(31 * 60))
step("31 minutes of silence: session \(try await store.load(id) == nil ? "is gone" : "is still there")")
let removed = try await store.deleteExpired()
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
