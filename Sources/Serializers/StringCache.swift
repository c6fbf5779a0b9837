internal import SessionPipeline

/// Remembers the short strings a reader has already made from one input, so that a key repeated in
/// every element of a list (`sku`, `qty`, …) is validated and made once per document instead of
/// once per use.
///
/// A direct-mapped table of 32 slots, indexed by length and end bytes, remembering where in the
/// input each string's bytes lie: a lookup is one comparison of at most 32 bytes.
///
/// The table lives in a stack buffer of the call that reads a whole document
/// (``withTable(_:)``); the cache itself is a pointer to it, or `nil` for a reader of one value,
/// which makes each string afresh. (Held inline as an optional, the 770-byte table made every
/// reader that size: a reader of one value was set up by copying an empty table into it, once per
/// value a request decodes.) The table's slots are filled on first use.
struct StringCache {
    /// The longest string cached, in bytes.
    static let longest = 32

    private let table: UnsafeMutablePointer<Table>?

    /// A cache that remembers nothing: every string is made afresh.
    init() {
        table = nil
    }

    private init(table: UnsafeMutablePointer<Table>) {
        self.table = table
    }

    /// Calls `body` with a cache whose table lives on the stack for the duration of the call.
    static func withTable<Result>(_ body: (StringCache) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: Table.self, capacity: 1) { buffer in
            let table = buffer.baseAddress!
            table.initialize(to: Table())
            defer { table.deinitialize(count: 1) }
            return try body(StringCache(table: table))
        }
    }

    /// The string spelled by the `count` bytes at `offset` in `input`, from the cache or made (and
    /// remembered when short); `nil` when the bytes are not valid UTF-8. Every call for one cache
    /// must pass the same input.
    func string(at offset: Int, count: Int, in input: UnsafeRawBufferPointer) -> String? {
        guard let table, count > 0, count <= Self.longest, let base = input.baseAddress else {
            return UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)]))
        }
        return table.pointee.string(at: offset, count: count, in: input, base: base)
    }

    fileprivate struct Table {
        /// `offset << 8 | count` into the input, or -1 for an empty slot.
        var places = InlineArray<32, Int>(repeating: -1)
        var strings = InlineArray<32, String>(repeating: "")

        mutating func string(
            at offset: Int,
            count: Int,
            in input: UnsafeRawBufferPointer,
            base: UnsafeRawPointer
        ) -> String? {
            let slot = (count &* 7 &+ Int(input[offset]) &* 3 &+ Int(input[offset + count - 1])) & 31
            let place = places[slot]
            if place >= 0, place & 0xFF == count,
                UTF8Text.compare(base + (place >> 8), count, base + offset, count) == 0
            {
                return strings[slot]
            }
            guard let string = UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)]))
            else {
                return nil
            }
            places[slot] = offset << 8 | count
            strings[slot] = string
            return string
        }
    }
}
