/// A hash table that also keeps its entries in order of use, for least-recently-used eviction.
///
/// Entries live in slots threaded on an index-linked list (no per-entry allocation), so lookup,
/// insertion, removal, moving an entry to the front and evicting the oldest are all O(1). Freed
/// slots are reused. Not thread-safe: its owners keep it inside a `Mutex`.
package struct LRUTable<Key: Hashable, Value> {
    private struct Slot {
        var key: Key?
        var value: Value?
        var newer = -1
        var older = -1
    }

    private var index: [Key: Int] = [:]
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var newest = -1
    private var oldest = -1

    /// Creates an empty table.
    package init() {}

    /// The number of entries.
    package var count: Int { index.count }

    /// The value for `key`; when `touch` is set the entry becomes the most recently used.
    package mutating func value(for key: Key, touch: Bool = true) -> Value? {
        guard let slot = index[key] else { return nil }
        if touch { moveToFront(slot) }
        return slots[slot].value
    }

    /// Whether the table holds `key`.
    package func contains(_ key: Key) -> Bool {
        index[key] != nil
    }

    /// Stores `value` under `key` as the most recently used entry; returns the value it replaced.
    @discardableResult
    package mutating func update(_ value: Value, for key: Key) -> Value? {
        if let slot = index[key] {
            let previous = slots[slot].value
            slots[slot].value = value
            moveToFront(slot)
            return previous
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = Slot(key: key, value: value)
        } else {
            slot = slots.count
            slots.append(Slot(key: key, value: value))
        }
        index[key] = slot
        link(slot)
        return nil
    }

    /// Changes the value under `key` in place, without changing its recency; `false` when absent.
    @discardableResult
    package mutating func modify(_ key: Key, _ body: (inout Value) -> Void) -> Bool {
        guard let slot = index[key] else { return false }
        body(&slots[slot].value!)
        return true
    }

    /// Removes `key`; returns its value.
    @discardableResult
    package mutating func removeValue(for key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        return remove(slot: slot).value
    }

    /// Removes and returns the least recently used entry.
    package mutating func removeOldest() -> (key: Key, value: Value)? {
        guard oldest >= 0 else { return nil }
        return remove(slot: oldest)
    }

    /// Removes every entry for which `shouldRemove` is true; returns the removed entries.
    @discardableResult
    package mutating func removeAll(where shouldRemove: (Key, Value) -> Bool) -> [(key: Key, value: Value)] {
        let doomed = index.values.filter { shouldRemove(slots[$0].key!, slots[$0].value!) }
        return doomed.map { remove(slot: $0) }
    }

    /// Removes every entry.
    package mutating func removeAll() {
        self = LRUTable()
    }

    /// The keys whose values satisfy `predicate`, in no particular order.
    package func keys(where predicate: (Value) -> Bool) -> [Key] {
        index.compactMap { key, slot in predicate(slots[slot].value!) ? key : nil }
    }

    private mutating func remove(slot: Int) -> (key: Key, value: Value) {
        unlink(slot)
        let entry = slots[slot]
        index[entry.key!] = nil
        slots[slot] = Slot()
        freeSlots.append(slot)
        return (entry.key!, entry.value!)
    }

    private mutating func moveToFront(_ slot: Int) {
        guard newest != slot else { return }
        unlink(slot)
        link(slot)
    }

    private mutating func link(_ slot: Int) {
        slots[slot].older = newest
        slots[slot].newer = -1
        if newest >= 0 {
            slots[newest].newer = slot
        }
        newest = slot
        if oldest < 0 {
            oldest = slot
        }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = slots[slot].newer
        let older = slots[slot].older
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[slot].newer = -1
        slots[slot].older = -1
    }
}
