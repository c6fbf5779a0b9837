/// A session's application values: decoded entries, and entries a ``SplicingSerializer`` left
/// encoded when the session was read, decoded only when a request uses them.
///
/// A request that reads or sets one key of a session therefore decodes that key alone, and the
/// untouched entries go back into the response's cookie byte for byte (``spliced``). The two sets
/// of keys never overlap: setting or removing a key drops its encoded form.
struct SessionData: Sendable {
    /// Entries decoded or set during the request.
    private(set) var decoded: SessionDictionary
    /// Entries still encoded, sorted by the UTF-8 bytes of their keys.
    private(set) var encoded: [EncodedEntry]
    /// The serializer that read ``encoded`` (and decodes it); `nil` when nothing is encoded. Behind
    /// a reference: held as an existential, it made the stored and loaded sessions address-only.
    private let reader: Shared<any SplicingSerializer>?

    /// All entries decoded.
    init(_ dictionary: SessionDictionary = SessionDictionary()) {
        self.decoded = dictionary
        self.encoded = []
        self.reader = nil
    }

    /// Entries left encoded, sorted by key (as ``SplicingSerializer/entries(of:)`` returns them).
    init(encoded: [EncodedEntry], reader: Shared<any SplicingSerializer>) {
        self.decoded = SessionDictionary()
        self.encoded = encoded
        self.reader = reader
    }

    /// Whether there are no entries.
    var isEmpty: Bool { decoded.isEmpty && encoded.isEmpty }

    /// Whether there is a value under `key`.
    func contains(_ key: String) -> Bool {
        decoded[key] != nil || encodedIndex(key) != nil
    }

    /// Whether some entries are still encoded.
    var hasEncodedEntries: Bool { !encoded.isEmpty }

    /// The position of `key` among the encoded entries, by binary search.
    private func encodedIndex(_ key: String) -> Int? {
        var low = 0
        var high = encoded.count
        while low < high {
            let middle = (low + high) / 2
            let order = UTF8Text.compare(encoded[middle].key, key)
            if order == 0 { return middle }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The value under `key`, decoded if it was still encoded.
    ///
    /// - Throws: the reader's error when the encoded value does not decode.
    func value(forKey key: String) throws -> SessionValue? {
        if let value = decoded[key] { return value }
        guard let index = encodedIndex(key), let reader else { return nil }
        return try reader.value.decode(encoded[index].value)
    }

    /// The value under `key` decoded as `T`, or `nil` when the key is absent.
    ///
    /// - Throws: ``SessionError/Code/typeMismatch`` naming the key when the value is not a `T`.
    func get<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        guard let value = try value(forKey: key) else { return nil }
        return try SessionDictionary.decode(value, as: T.self, key: key)
    }

    /// Sets (or with `nil` removes) the value under `key`.
    mutating func set(_ value: SessionValue?, forKey key: String) {
        if let index = encodedIndex(key) { encoded.remove(at: index) }
        decoded[key] = value
    }

    /// Removes `key` and returns what it held.
    mutating func removeValue(forKey key: String) throws -> SessionValue? {
        let old = try value(forKey: key)
        set(nil, forKey: key)
        return old
    }

    /// Every entry, decoded.
    func dictionary() throws -> SessionDictionary {
        guard let reader, !encoded.isEmpty else { return decoded }
        var all = decoded
        for entry in encoded {
            all[entry.key] = try reader.value.decode(entry.value)
        }
        return all
    }

    /// Decodes every entry, so that ``decoded`` holds them all.
    mutating func decodeAll() throws {
        self = SessionData(try dictionary())
    }

    /// The entries as a dictionary to write: encoded entries as they are, the others decoded.
    var spliced: SplicedValue {
        var entries: [(key: String, value: SplicedValue)] = []
        entries.reserveCapacity(decoded.count + encoded.count)
        // Both lists are sorted; merging them keeps the result sorted, which spares the writer a sort.
        var decodedEntries = decoded.storage[...]
        var encodedEntries = encoded[...]
        while let next = decodedEntries.first, let other = encodedEntries.first {
            if UTF8Text.compare(next.key, other.key) < 0 {
                entries.append((next.key, .value(next.value)))
                decodedEntries = decodedEntries.dropFirst()
            } else {
                entries.append((other.key, .encoded(other.value)))
                encodedEntries = encodedEntries.dropFirst()
            }
        }
        for entry in decodedEntries { entries.append((entry.key, .value(entry.value))) }
        for entry in encodedEntries { entries.append((entry.key, .encoded(entry.value))) }
        return .dictionary(entries)
    }

    /// The keys, in order.
    var keys: [String] {
        (decoded.keys + encoded.map(\.key)).sorted { UTF8Text.compare($0, $1) < 0 }
    }

    /// Whether the value under `key` is the same in both: equal encoded bytes in the same format
    /// settle it without decoding; otherwise the decoded values are compared. A value that does
    /// not decode differs from everything.
    static func sameValue(_ key: String, _ lhs: SessionData, _ rhs: SessionData) -> Bool {
        if let left = lhs.encodedIndex(key), let right = rhs.encodedIndex(key),
            lhs.encoded[left].value == rhs.encoded[right].value
        {
            return true
        }
        let left = Result { try lhs.value(forKey: key) }
        let right = Result { try rhs.value(forKey: key) }
        guard case .success(let leftValue) = left, case .success(let rightValue) = right else { return false }
        return leftValue == rightValue
    }
}

extension SessionData: Equatable {
    /// The same keys with the same values (see ``sameValue(_:_:_:)``). Entries encoded on both
    /// sides are matched in one walk over the two sorted lists and compared by their bytes, so
    /// a session that a request did not change compares without decoding or sorting anything —
    /// and, when both are still the one copy loaded, without looking at any entry.
    static func == (lhs: SessionData, rhs: SessionData) -> Bool {
        if lhs.encoded.sharesStorage(with: rhs.encoded), lhs.decoded.storage.sharesStorage(with: rhs.decoded.storage) {
            return true
        }
        guard lhs.decoded.count + lhs.encoded.count == rhs.decoded.count + rhs.encoded.count else { return false }
        // With equal sizes, every key of `lhs` found in `rhs` with the same value makes them equal.
        var right = 0
        for entry in lhs.encoded {
            while right < rhs.encoded.count, UTF8Text.compare(rhs.encoded[right].key, entry.key) < 0 { right += 1 }
            if right < rhs.encoded.count, UTF8Text.compare(rhs.encoded[right].key, entry.key) == 0,
                rhs.encoded[right].value == entry.value
            {
                continue
            }
            guard sameValue(entry.key, lhs, rhs) else { return false }
        }
        for entry in lhs.decoded.storage where !sameValue(entry.key, lhs, rhs) {
            return false
        }
        return true
    }
}
