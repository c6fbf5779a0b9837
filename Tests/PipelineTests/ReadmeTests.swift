import Foundation
import Serializers
import SessionPipeline
import Testing

/// The README's start-up example, kept compiling and working.
struct ReadmeTests {
    struct Cart: Codable, Equatable {
        var items: [String]
    }

    @Test func theReadmeExampleWorks() async throws {
        let root = try freshDirectory() + "/sessions"
        let cart = Cart(items: ["tea"])
        TestEnvironment.install()

        // Start-up: compose once, share everywhere (the store is Sendable).
        let keys = try KeyRing(environment: "SESSION_KEYS")  // "2:<base64>,1:<base64>", primary first
        let store = try SessionStore.pipeline()
            .cached(SessionCache(entries: 50_000, ttl: .seconds(300)))  // hits skip everything below
            .namespaced("shop")  // session:ID → shop:session:ID
            .serialized(.binary)  // values → MessagePack, tagged 0x21
            .compressed(.zstd())  // zstd above 256 bytes, tagged 0x12
            .encrypted(with: keys)  // XChaCha20-Poly1305, bound to the key
            .driver(FileDriver(root: root))  // one file per record, atomic writes

        // In a request:
        let id = SessionID.random()  // 256 random bits
        var session = SessionDictionary()
        session["user"] = "alice"
        try session.set(cart, for: "cart")  // any Codable type
        try await store.save(session, for: id, expires: store.clock.now() + .seconds(1800))

        let loaded = try await store.load(id)  // nil when missing or expired
        let saved = try loaded?.get(Cart.self, "cart")

        #expect(saved == cart)
        #expect(loaded?["user"] == "alice")

        // The same store, from one line of configuration (keys are only ever referenced):
        let configured = try SessionStore(
            configuration:
                "driver:file;root=\(root);serializer:binary;compress:zstd;encrypt:env=SESSION_KEYS;cache:entries=50000,ttl=300;namespace:shop",
            registry: .standard
        )
        #expect(try await configured.load(id)?.get(Cart.self, "cart") == cart)
        #expect(configured.configuration == store.configuration)
    }
}
