import Testing

@testable import SessionPipeline

/// Counts the pages fetched.
final class FetchCounter: Sendable {
    private let count = Locked(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

struct PagedKeysTests {
    /// A sorted "table" of `count` keys, read the way a database driver reads it.
    static func keys(_ count: Int, pageSize: Int, fetches: FetchCounter? = nil) -> (PagedKeys, [String]) {
        let table = (0..<count).map { "session:k" + String($0 + 100_000) }
        let keys = PagedKeys(pageSize: pageSize, layer: "Test") { after, limit in
            fetches?.increment()
            return Array(table.filter { after == nil || $0 > after! }.prefix(limit))
        }
        return (keys, table)
    }

    @Test(arguments: [0, 1, 9, 10, 11, 25, 30])
    func everyKeyOnceWhateverThePageBoundaries(count: Int) async throws {
        let (keys, table) = Self.keys(count, pageSize: 10)
        var seen: [String] = []
        for try await key in keys { seen.append(key.rawValue) }
        #expect(seen == table)
    }

    @Test func aShortPageEndsTheSequenceWithoutAnotherQuery() async throws {
        let fetches = FetchCounter()
        let (keys, _) = Self.keys(25, pageSize: 10, fetches: fetches)
        for try await _ in keys {}
        #expect(fetches.value == 3)
    }

    @Test func anInvalidStoredKeyIsCorruptNotACrash() async throws {
        let keys = PagedKeys(pageSize: 10, layer: "Test") { after, _ in
            after == nil ? ["session:ok", "../../etc/passwd"] : []
        }
        var iterator = keys.makeAsyncIterator()
        #expect(try await iterator.next()?.rawValue == "session:ok")
        await #expect {
            _ = try await iterator.next()
        } throws: { error in
            (error as? SessionError)?.code == .corrupt && (error as? SessionError)?.layer == "Test"
        }
    }
}
