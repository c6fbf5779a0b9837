#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The keys a deployment seals and opens with: one primary key that seals, any number of older
/// keys that still open, each named by a 32-bit id carried in every envelope.
///
/// Rotation without logging anyone out: add a new key as primary and keep the old one behind it.
/// Envelopes sealed under the old key keep opening (and are flagged
/// ``RecordFlags/needsReseal``); new ones are sealed under the new key. Once everything has been
/// re-sealed (lazily, or with `sessionctl rekey`), drop the old key.
///
/// The text form, for an environment variable or a file, lists `ID:KEY` entries separated by
/// commas, primary first, each key in base64 (or hex):
///
/// ```sh
/// SESSION_KEYS="3:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=,2:3q2+7wAAAAD…"
/// ```
///
/// ```swift
/// let keys = try KeyRing(environment: "SESSION_KEYS")
/// let store = try SessionStore.pipeline()
///     .serialized(.binary)
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
public struct KeyRing: Sendable, CustomStringConvertible {
    /// A key and its id.
    public struct Entry: Sendable {
        /// The id envelopes carry.
        public let id: UInt32
        /// The key.
        public let key: SecretKey

        /// Pairs a key with its id.
        public init(id: UInt32, key: SecretKey) {
            self.id = id
            self.key = key
        }
    }

    /// The key that seals.
    public let primary: Entry
    /// Every key, primary first.
    public let entries: [Entry]
    /// Where the ring came from: shown in configuration strings instead of the keys.
    public private(set) var source: SecretKey.Source = .code

    /// Creates a ring.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when two entries share an id.
    public init(primary: Entry, older: [Entry] = []) throws {
        var seen: Set<UInt32> = []
        for entry in [primary] + older {
            guard seen.insert(entry.id).inserted else {
                throw SessionError(
                    .invalidConfiguration,
                    "key id \(entry.id) appears twice in the key ring",
                    layer: "KeyRing"
                )
            }
        }
        self.primary = primary
        self.entries = [primary] + older
    }

    /// A ring of one key.
    public init(id: UInt32, key: SecretKey) {
        self.primary = Entry(id: id, key: key)
        self.entries = [primary]
    }

    /// Parses the text form `ID:KEY,ID:KEY…` (primary first).
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` naming the entry (by position and id,
    ///   never by its key) that is malformed, or an id that appears twice.
    public init(text: String) throws {
        var text = text
        self = try text.withUTF8 { try KeyRing.parse(UnsafeRawBufferPointer($0), source: "the key ring text") }
    }

    /// Reads the text form from the environment variable `name`.
    public init(environment name: String) throws {
        guard let value = getenv(name) else {
            throw SessionError(.invalidConfiguration, "the environment variable \(name) is not set", layer: "KeyRing")
        }
        self = try KeyRing.parse(
            UnsafeRawBufferPointer(start: value, count: strlen(value)),
            source: "the environment variable \(name)"
        )
        self.source = .environment(name)
    }

    /// Reads the text form from the file at `path` (surrounding whitespace and newlines between
    /// entries are allowed).
    public init(contentsOfFile path: String) throws {
        let contents = try SecretFile.read(path, layer: "KeyRing")
        defer { Sodium.freeSecret(contents) }
        self = try KeyRing.parse(UnsafeRawBufferPointer(contents), source: "the file \(path)")
        self.source = .file(path)
    }

    /// The key with id `id`, if the ring holds it.
    public func key(id: UInt32) -> SecretKey? {
        for entry in entries where entry.id == id {
            return entry.key
        }
        return nil
    }

    /// The ids, primary first.
    public var ids: [UInt32] { entries.map(\.id) }

    /// `KeyRing(primary 3; also 2, 1)`: ids only.
    public var description: String {
        let older = entries.dropFirst().map { String($0.id) }
        return "KeyRing(primary \(primary.id)" + (older.isEmpty ? ")" : "; also \(older.joined(separator: ", ")))")
    }

    /// Parses `ID:KEY` entries from raw bytes, decoding each key straight into guarded memory.
    private static func parse(_ text: UnsafeRawBufferPointer, source: String) throws -> KeyRing {
        func refuse(_ reason: String) -> SessionError {
            SessionError(.invalidConfiguration, "\(source): \(reason)", layer: "KeyRing")
        }
        var entries: [Entry] = []
        var start = 0
        var position = 0
        while position <= text.count {
            if position == text.count || text[position] == UInt8(ascii: ",") {
                let entry = UnsafeRawBufferPointer(rebasing: text[start..<position])
                let number = entries.count + 1
                guard let colon = entry.firstIndex(of: UInt8(ascii: ":")) else {
                    throw refuse("entry \(number) is not in the form ID:KEY")
                }
                let idText = String(decoding: entry[..<colon], as: UTF8.self).trimmingSpaces
                guard let id = UInt32(idText) else {
                    throw refuse("entry \(number) has no valid key id (0 to 4294967295)")
                }
                let keyText = UnsafeRawBufferPointer(rebasing: entry[(colon + 1)...])
                let key: SecretKey
                do {
                    key = try SecretKey(text: keyText, source: "entry \(number)")
                } catch {
                    throw refuse("the key of entry \(number) (id \(id)) is not 32 bytes of base64 or hex")
                }
                entries.append(Entry(id: id, key: key))
                start = position + 1
            }
            position += 1
        }
        guard let primary = entries.first else { throw refuse("the key ring is empty") }
        do {
            return try KeyRing(primary: primary, older: Array(entries.dropFirst()))
        } catch let error as SessionError {
            throw refuse(error.message)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first?.isWhitespace == true { scalars.removeFirst() }
        while scalars.last?.isWhitespace == true { scalars.removeLast() }
        return String(scalars)
    }
}
