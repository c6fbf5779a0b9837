import Serializers
import SessionPipeline
import Testing

struct SessionStoreTests {
    @Test func savesLoadsAndDestroysSessions() async throws {
        let clock = ManualClock()
        let store = try SessionStore.pipeline().serialized(.json).driver(MemoryDriver<[UInt8]>(clock: clock))
        let id = SessionID.random()
        var session = SessionDictionary()
        session["user"] = "alice"
        try session.set(["tea", "cake"], for: "cart")
        try await store.save(session, for: id, expires: clock.now() + .seconds(60))
        try await store.set(.flash(id), ["message": "saved"])
        try await store.set(.expires(id), .int(clock.now().seconds + 60))

        let loaded = try #require(try await store.load(id))
        #expect(loaded == session)
        #expect(try loaded.get([String].self, "cart") == ["tea", "cake"])
        #expect(try await store.record(.session(id))?.expires == clock.now() + .seconds(60))

        try await store.destroy(id)
        #expect(try await store.load(id) == nil)
        #expect(try await store.get(.flash(id)) == nil)
        #expect(try await store.get(.expires(id)) == nil)
    }

    @Test func expiredSessionsLoadAsNil() async throws {
        let clock = ManualClock()
        let store = try SessionStore.pipeline().driver(MemoryDriver<SessionValue>(clock: clock))
        let id = SessionID.random()
        try await store.save(["a": 1], for: id, expires: clock.now() + .seconds(30))
        #expect(try await store.touch(.session(id), expires: clock.now() + .seconds(90)))
        clock.advance(by: .seconds(60))
        #expect(try await store.load(id) == ["a": 1])
        clock.advance(by: .seconds(30))
        #expect(try await store.load(id) == nil)
        #expect(try await store.deleteExpired() == 0)
    }

    @Test func aSessionKeyHoldingANonDictionaryIsATypeMismatch() async throws {
        let store = try SessionStore.pipeline().driver(MemoryDriver<SessionValue>(clock: ManualClock()))
        let id = SessionID.random()
        try await store.set(.session(id), .int(5))
        let error = await #expect(throws: SessionError.self) { try await store.load(id) }
        #expect(error?.code == .typeMismatch)
    }

    @Test func theStoreNamesItsLayersFromTheTop() throws {
        let store = try SessionStore.pipeline()
            .namespaced("shop")
            .serialized(.json)
            .driver(MemoryDriver<[UInt8]>(clock: ManualClock()))
        #expect(store.layerNames == ["namespace:shop", "serializer:json", "driver:memory"])
        #expect(store.configuration == "namespace:shop;serializer:json;driver:memory")
    }

    @Test func keysAreListedThroughTheWholePipeline() async throws {
        let store = try SessionStore.pipeline()
            .namespaced("shop")
            .serialized(.json)
            .driver(MemoryDriver<[UInt8]>(clock: ManualClock()))
        let ids = (0..<5).map { _ in SessionID.random() }
        for id in ids {
            try await store.save([:], for: id, expires: nil)
        }
        var listed: Set<SessionKey> = []
        for try await key in store.keys() {
            listed.insert(key)
        }
        #expect(listed == Set(ids.map { SessionKey.session($0) }))
    }
}

struct SerializationLayerTests {
    @Test func readsEveryConfiguredFormatWhateverItWrites() async throws {
        let driver = MemoryDriver<[UInt8]>(clock: ManualClock())
        let oldStore = try SessionStore.pipeline().serialized(writing: NoNullFormat()).driver(driver)
        let newStore = try SessionStore.pipeline().serialized(writing: JSONSerializer(), reading: [NoNullFormat()])
            .driver(driver)
        let key = try SessionKey("session:migrating")
        try await oldStore.set(key, ["written": "by the old format"])
        #expect(try await driver.get(key)?.value.first == 0x40)
        #expect(try await newStore.get(key) == ["written": "by the old format"])
        try await newStore.set(key, ["written": "by the new format"])
        #expect(try await driver.get(key)?.value.first == 0x20)
        let error = await #expect(throws: SessionError.self) { try await oldStore.get(key) }
        #expect(error?.code == .unknownFormat)
    }

    @Test func anEmptyPayloadIsMalformed() async throws {
        let driver = MemoryDriver<[UInt8]>(clock: ManualClock())
        let store = try SessionStore.pipeline().serialized(.json).driver(driver)
        let key = try SessionKey("session:empty")
        try await driver.set(key, to: Record([]))
        let error = await #expect(throws: SessionError.self) { try await store.get(key) }
        #expect(error?.code == .malformed)
        #expect(error?.layer == "Serialization")
    }

    @Test func readersMayNotShareATagOrLeaveTheSerializerRange() throws {
        struct Clash: SessionSerializer {
            var tag: UInt8
            var name: String { "clash" }
            func serialize(_ value: SessionValue) throws -> [UInt8] { [tag] }
            func deserialize(_ bytes: [UInt8]) throws -> SessionValue { .null }
        }
        let driver = MemoryDriver<[UInt8]>(clock: ManualClock())
        for tag: UInt8 in [0x20, 0x01, 0x10, 0x80] {
            let error = #expect(throws: SessionError.self) {
                try SessionStore.pipeline().serialized(writing: JSONSerializer(), reading: [Clash(tag: tag)])
                    .driver(driver)
            }
            #expect(error?.code == .invalidConfiguration)
        }
    }
}
