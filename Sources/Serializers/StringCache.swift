internal import SessionPipeline

/// Remembers the short strings a reader has already made from one input, so that a key repeated in
/// every element of a list (`sku`, `qty`, …) is validated and made once per document instead of
/// once per use.
///
/// A direct-mapped table of 32 slots on the stack, indexed by length and end bytes, remembering
/// where in the input each string's bytes lie: a lookup is one comparison of at most 32 bytes.
/// The table is set up on the first short string, so a reader that makes none (one scalar
/// decoded, a map split into encoded entries) neither fills nor destroys its 32 strings.
struct StringCache {
    /// The longest string cached, in bytes.
    static let longest = 32

    private var table: Table?
    /// Whether `table` is made: a flag of its own, since `table == nil` takes the optional by value
    /// and so copies the whole table (retaining its 32 strings) to test it.
    private var hasTable = false

    /// Creates an empty cache.
    init() {}

    /// The string spelled by the `count` bytes at `offset` in `input`, from the cache or made (and
    /// remembered when short); `nil` when the bytes are not valid UTF-8. Every call for one cache
    /// must pass the same input.
    mutating func string(at offset: Int, count: Int, in input: UnsafeRawBufferPointer) -> String? {
        guard count > 0, count <= Self.longest, let base = input.baseAddress else {
            return UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)]))
        }
        if !hasTable {
            table = Table()
            hasTable = true
        }
        // A mutating call through `!` works on the table in place; reading a field through `!`
        // would copy the whole table out of the optional first.
        return table!.string(at: offset, count: count, in: input, base: base)
    }

    private struct Table {
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
