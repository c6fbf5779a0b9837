/// A web session as it is persisted: in a sealed cookie (client mode) or as the value under
/// `session:ID` (server mode).
///
/// The value is a dictionary with these entries, each left out when empty:
///
/// | key | value |
/// |---|---|
/// | `data` | the application's values (a dictionary) |
/// | `flash` | values that live until read once (a dictionary) |
/// | `created` | when the session began, Unix seconds: the start of its absolute lifetime |
/// | `sid` | a random handle naming the session in the per-user index and the revocation list (not a bearer secret: it opens nothing) |
/// | `csrf` | the session's CSRF secret, 32 bytes |
/// | `user` | the user the session belongs to, set by ``RequestSession/logIn(user:)`` |
/// | `ref` | hybrid mode only: the id of the server record holding the rest; such a cookie holds only `ref`, `created` and `sid` |
///
/// The fields live in one storage object shared by copies until one of them changes (copy on
/// write, as arrays do). A request holds the session as loaded beside the one it changes, and
/// copies it to write it: with six fields held directly, each copy retained and released six
/// references, and "did it change?" compared every field. Now a copy is one retain, and two copies
/// that neither side changed are equal at a glance.
struct StoredSession: Sendable, Equatable {
    /// The fields. Mutated only after ``unique()``, when this value holds the only reference.
    private final class Fields: @unchecked Sendable {
        var data = SessionData()
        var flash = SessionDictionary()
        var created: UnixTime
        var handle: String
        var csrf: [UInt8]?
        var user: String?

        init(created: UnixTime, handle: String) {
            self.created = created
            self.handle = handle
        }

        func copy() -> Fields {
            let copy = Fields(created: created, handle: handle)
            (copy.data, copy.flash, copy.csrf, copy.user) = (data, flash, csrf, user)
            return copy
        }
    }

    private var fields: Fields

    /// The application's values.
    var data: SessionData {
        get { fields.data }
        _modify {
            unique()
            yield &fields.data
        }
    }
    /// Values that live until read once.
    var flash: SessionDictionary {
        get { fields.flash }
        _modify {
            unique()
            yield &fields.flash
        }
    }
    /// When the session began.
    var created: UnixTime {
        get { fields.created }
        set {
            unique()
            fields.created = newValue
        }
    }
    /// The random handle naming the session in the per-user index and the revocation list.
    var handle: String {
        get { fields.handle }
        set {
            unique()
            fields.handle = newValue
        }
    }
    /// The CSRF secret.
    var csrf: [UInt8]? {
        get { fields.csrf }
        set {
            unique()
            fields.csrf = newValue
        }
    }
    /// The user the session belongs to.
    var user: String? {
        get { fields.user }
        set {
            unique()
            fields.user = newValue
        }
    }

    /// A session with a given handle (empty: one to be given a handle before it is used). There is
    /// no initializer that draws one: drawing is a system call, made where a new handle is needed.
    init(created: UnixTime, handle: String) {
        fields = Fields(created: created, handle: handle)
    }

    /// Gives this value storage of its own before a change.
    private mutating func unique() {
        if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
    }

    /// The same fields; two copies neither side has changed since are equal without comparing any.
    static func == (lhs: StoredSession, rhs: StoredSession) -> Bool {
        if lhs.fields === rhs.fields { return true }
        let (left, right) = (lhs.fields, rhs.fields)
        return left.created == right.created && left.handle == right.handle && left.user == right.user
            && left.csrf == right.csrf && left.flash == right.flash && left.data == right.data
    }

    /// A new random handle: 128 bits in base64url.
    static func newHandle() -> String {
        Base64.urlEncodedString(Sodium.randomBytes(16))
    }

    /// Whether there is nothing worth keeping: no data, no flash values, no user, no CSRF secret.
    var isEmpty: Bool {
        data.isEmpty && flash.isEmpty && user == nil && csrf == nil
    }

    /// The persisted form, every value decoded.
    ///
    /// - Throws: the serializer's error when a value left encoded does not decode.
    func persistedValue() throws -> SessionValue {
        var entries = SessionDictionary()
        if !data.isEmpty { entries["data"] = .dictionary(try data.dictionary()) }
        if !flash.isEmpty { entries["flash"] = .dictionary(flash) }
        entries["created"] = .int(created.seconds)
        entries["sid"] = .string(handle)
        if let csrf { entries["csrf"] = .bytes(csrf) }
        if let user { entries["user"] = .string(user) }
        return .dictionary(entries)
    }

    /// The persisted form with the data entries that were never decoded still encoded: written
    /// by a ``SplicingSerializer``, it gives the same bytes as ``persistedValue()``.
    var spliced: SplicedValue {
        var entries: [(key: String, value: SplicedValue)] = []
        entries.reserveCapacity(6)
        entries.append(("created", .value(.int(created.seconds))))
        if let csrf { entries.append(("csrf", .value(.bytes(csrf)))) }
        if !data.isEmpty { entries.append(("data", data.spliced)) }
        if !flash.isEmpty { entries.append(("flash", .value(.dictionary(flash)))) }
        entries.append(("sid", .value(.string(handle))))
        if let user { entries.append(("user", .value(.string(user)))) }
        return .dictionary(entries)
    }

    /// The persisted form of a hybrid-mode pointer to server record `id`.
    func pointer(to id: SessionID) -> SessionValue {
        .dictionary(["ref": .string(id.rawValue), "created": .int(created.seconds), "sid": .string(handle)])
    }

    /// What a persisted value holds: a whole session, or (hybrid mode) a pointer to one.
    enum Decoded {
        case session(StoredSession)
        case pointer(SessionID, created: UnixTime, handle: String)
    }

    /// Reads a persisted value.
    ///
    /// - Throws: ``SessionError/Code/corrupt`` when the value does not have this shape.
    static func decode(_ value: SessionValue) throws -> Decoded {
        guard case .dictionary(let entries) = value else { throw corrupt("is not a dictionary") }
        return try decode(fields: entries, data: nil)
    }

    private static func corrupt(_ reason: String) -> SessionError {
        SessionError(.corrupt, "the stored session \(reason)", layer: "SessionManager")
    }

    /// Reads a persisted session's entries; `data`, when given, is its data (left encoded), and
    /// `entries` then has no `data` entry.
    private static func decode(fields entries: SessionDictionary, data: SessionData?) throws -> Decoded {
        guard case .int(let created)? = entries["created"] else { throw corrupt("has no creation time") }
        guard case .string(let handle)? = entries["sid"], !handle.isEmpty, handle.utf8.count <= 64 else {
            throw corrupt("has no handle")
        }
        if let reference = entries["ref"] {
            guard case .string(let text) = reference, let id = try? SessionID(text) else {
                throw corrupt("has an invalid reference")
            }
            return .pointer(id, created: UnixTime(seconds: created), handle: handle)
        }
        var session = StoredSession(created: UnixTime(seconds: created), handle: handle)
        switch entries["data"] {
        case .dictionary(let data)?: session.data = SessionData(data)
        case nil: if let data { session.data = data }
        default: throw corrupt("has data that is not a dictionary")
        }
        switch entries["flash"] {
        case .dictionary(let flash)?: session.flash = flash
        case nil: break
        default: throw corrupt("has flash values that are not a dictionary")
        }
        switch entries["csrf"] {
        case .bytes(let secret)? where secret.count == CSRFToken.secretLength: session.csrf = secret
        case nil: break
        default: throw corrupt("has an invalid CSRF secret")
        }
        switch entries["user"] {
        case .string(let user)?: session.user = user
        case nil: break
        default: throw corrupt("has a user that is not a string")
        }
        return .session(session)
    }

    /// Reads a persisted value whose entries a ``SplicingSerializer`` left encoded: the session's
    /// own fields are decoded, its data entries stay encoded until used.
    ///
    /// - Throws: ``SessionError/Code/corrupt`` when the value does not have the shape of a
    ///   session, or the serializer's error for a field that does not decode.
    static func decode(entries: [EncodedEntry], reader: Shared<any SplicingSerializer>) throws -> Decoded {
        var fields = SessionDictionary()
        var data: [EncodedEntry]?
        for entry in entries {
            if entry.key == "data" {
                guard let dataEntries = try reader.value.entries(of: entry.value) else {
                    throw SessionError(
                        .corrupt, "the stored session has data that is not a dictionary", layer: "SessionManager")
                }
                data = dataEntries
            } else {
                fields[entry.key] = try reader.value.decode(entry.value)
            }
        }
        return try decode(fields: fields, data: data.map { SessionData(encoded: $0, reader: reader) })
    }

    /// What changed from `original` to `self`, applied to `other`: changed and removed keys of
    /// `data` and `flash` one by one, the other fields when they changed. Used to merge
    /// concurrent saves key by key.
    func changes(since original: StoredSession, appliedTo other: StoredSession) throws -> StoredSession {
        var merged = other
        merged.data = try Self.merge(data, since: original.data, into: other.data)
        merged.flash = Self.merge(flash, since: original.flash, into: other.flash)
        if csrf != original.csrf { merged.csrf = csrf }
        if user != original.user { merged.user = user }
        return merged
    }

    private static func merge(
        _ current: SessionData,
        since original: SessionData,
        into other: SessionData
    ) throws -> SessionData {
        var merged = other
        for key in current.keys where !SessionData.sameValue(key, current, original) {
            merged.set(try current.value(forKey: key), forKey: key)
        }
        for key in original.keys where !current.contains(key) {
            merged.set(SessionValue?.none, forKey: key)
        }
        return merged
    }

    private static func merge(
        _ current: SessionDictionary,
        since original: SessionDictionary,
        into other: SessionDictionary
    ) -> SessionDictionary {
        var merged = other
        for (key, value) in current where original[key] != value {
            merged[key] = value
        }
        for key in original.keys where current[key] == nil {
            merged[key] = nil
        }
        return merged
    }
}
