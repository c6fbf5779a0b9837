import Testing

@testable import SessionPipeline

/// A stored session is a value: copies share one storage until one of them changes, and a change
/// to any field of a copy leaves every other copy as it was.
struct StoredSessionTests {
    static let created = UnixTime(seconds: 1_700_000_000)

    static func sample() -> StoredSession {
        var session = StoredSession(created: created, handle: "handle-one")
        session.data.set(.int(1), forKey: "count")
        session.flash["notice"] = .string("hello")
        session.csrf = [UInt8](repeating: 7, count: 32)
        session.user = "alice"
        return session
    }

    @Test func aChangeToAnyFieldOfACopyLeavesTheOriginalAsItWas() throws {
        let changes: [(String, (inout StoredSession) -> Void)] = [
            ("data", { $0.data.set(.int(2), forKey: "count") }),
            ("flash", { $0.flash["notice"] = nil }),
            ("created", { $0.created = UnixTime(seconds: 1) }),
            ("handle", { $0.handle = "handle-two" }),
            ("csrf", { $0.csrf = nil }),
            ("user", { $0.user = "bob" }),
        ]
        for (field, change) in changes {
            let original = Self.sample()
            var copy = original
            #expect(copy == original)
            change(&copy)
            #expect(copy != original, "a change to \(field) makes the copy differ")
            #expect(original == Self.sample(), "the original keeps its \(field)")
            #expect(original.created == Self.created && original.handle == "handle-one")
            #expect(original.user == "alice" && original.csrf == [UInt8](repeating: 7, count: 32))
            #expect(try original.data.value(forKey: "count") == .int(1))
            #expect(original.flash["notice"] == .string("hello"))
        }
    }

    @Test func sessionsWithTheSameFieldsAreEqualWhateverTheirStorage() {
        let first = Self.sample()
        let second = Self.sample()
        #expect(first == second, "two storages, the same fields")
        var rewritten = first
        rewritten.user = "alice"
        rewritten.data.set(.int(1), forKey: "count")
        #expect(rewritten == first, "a value set to what it was")
        rewritten.flash["notice"] = .string("hello!")
        #expect(rewritten != first)
    }
}
