/// The per-user index (Catalyst's `user:NAME` extension): which sessions a user has, so that all
/// of them can be ended at once ("log out everywhere").
///
/// The index lives in ``SessionManager/Options/userIndex`` under `user:NAME`, one record per user:
/// a dictionary from each session's handle to `{"created": seconds, "id": server id}` (`id` only
/// where the session has a server record). ``RequestSession/logIn(user:)`` adds the session;
/// ending it (``RequestSession/destroy()``, ``RequestSession/regenerate()``, logging in as someone
/// else, expiry found on load) removes it. Updates go through compare-and-swap where the store
/// supports it, so concurrent logins do not lose each other.
///
/// - Note: An entry is dropped once its session's absolute lifetime is over. A session that
///   expired from idleness stays listed until then; ``SessionManager/sessions(ofUser:)`` leaves
///   out server sessions whose record is gone, but cannot know that of a client cookie.
extension SessionManager {
    /// One of a user's sessions.
    public struct UserSession: Sendable, Hashable {
        /// The session's handle: a random name that identifies it without granting access.
        public var handle: String
        /// When it began (its login).
        public var created: UnixTime
    }

    /// The key of `user`'s index record: `user:` followed by the name, with `%`, `/`, `\`, `.` and
    /// control characters written as `%XX`.
    static func indexKey(_ user: String) throws -> SessionKey {
        try SessionKey(prefix: .user, id: escapedUserName(user))
    }

    /// `user` with `%`, `/`, `\`, `.` and control characters (C0, DEL, C1) written as `%XX` bytes.
    static func escapedUserName(_ user: String) -> String {
        var escaped = ""
        for scalar in user.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x25, 0x2E, 0x2F, 0x5C:
                for byte in String(scalar).utf8 {
                    escaped += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                }
            default:
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// The sessions listed for `user`, oldest first.
    ///
    /// - Throws: ``SessionError/Code/unsupported`` without a ``Options/userIndex``;
    ///   ``SessionError/Code/invalidKey`` for a name too long for a key.
    public func sessions(ofUser user: String) async throws -> [UserSession] {
        let index = try requireIndex()
        let now = clock.now()
        var sessions: [UserSession] = []
        for (handle, entry) in try await indexEntries(user, in: index).entries {
            guard let created = Self.created(entry), !hasOutlived(created: created, now: now) else { continue }
            if let id = Self.serverID(entry), codec == nil, try await store?.record(.session(id)) == nil {
                continue
            }
            sessions.append(UserSession(handle: handle, created: created))
        }
        return sessions.sorted { ($0.created, $0.handle) < ($1.created, $1.handle) }
    }

    /// Ends every session of `user` ("log out everywhere"): deletes their server records and, for
    /// client cookies, records their handles in ``Options/revocations``. Returns how many sessions
    /// were listed.
    ///
    /// - Throws: ``SessionError/Code/unsupported`` without a ``Options/userIndex``, or in client and
    ///   hybrid mode without ``Options/revocations`` (a client cookie cannot be ended otherwise).
    @discardableResult
    public func revokeAllSessions(ofUser user: String) async throws -> Int {
        let index = try requireIndex()
        if codec != nil && options.revocations == nil {
            throw SessionError(
                .unsupported,
                "ending client-mode sessions needs a revocation store (Options.revocations)",
                layer: "SessionManager"
            )
        }
        let now = clock.now()
        let entries = try await indexEntries(user, in: index)
        for (handle, entry) in entries.entries {
            let created = Self.created(entry) ?? now
            var retired = RetiredSession(handle: handle, created: created)
            retired.serverID = Self.serverID(entry)
            try await retireWithoutIndex(retired, now: now)
        }
        try await index.delete(Self.indexKey(user))
        return entries.count
    }

    private func requireIndex() throws -> SessionStore {
        guard let index = options.userIndex else {
            throw SessionError(
                .unsupported, "no per-user index is configured (Options.userIndex)", layer: "SessionManager")
        }
        return index
    }

    private func indexEntries(_ user: String, in index: SessionStore) async throws -> SessionDictionary {
        guard let value = try await index.get(Self.indexKey(user)) else { return SessionDictionary() }
        guard let entries = SessionDictionary(value) else {
            throw SessionError(.corrupt, "a user index record is not a dictionary", layer: "SessionManager")
        }
        return entries
    }

    private static func created(_ entry: SessionValue) -> UnixTime? {
        guard case .dictionary(let fields) = entry, case .int(let seconds)? = fields["created"] else { return nil }
        return UnixTime(seconds: seconds)
    }

    private static func serverID(_ entry: SessionValue) -> SessionID? {
        guard case .dictionary(let fields) = entry, case .string(let text)? = fields["id"] else { return nil }
        return try? SessionID(text)
    }

    /// Adds session `handle` to `user`'s index.
    func index(_ user: String, adding handle: String, created: UnixTime, serverID: SessionID?, now: UnixTime)
        async throws
    {
        var entry: SessionDictionary = ["created": .int(created.seconds)]
        if let serverID { entry["id"] = .string(serverID.rawValue) }
        try await updateIndex(user, now: now) { $0[handle] = entry.value }
    }

    /// Removes session `handle` from `user`'s index.
    func index(_ user: String, removing handle: String, now: UnixTime) async throws {
        try await updateIndex(user, now: now) { $0[handle] = nil }
    }

    /// Changes `user`'s index record with compare-and-swap (when the store has it), dropping
    /// entries whose sessions outlived their absolute lifetime.
    private func updateIndex(_ user: String, now: UnixTime, _ change: (inout SessionDictionary) -> Void) async throws {
        let index = try requireIndex()
        let key = try Self.indexKey(user)
        for round in 0..<options.maximumSaveAttempts {
            let record = try await index.record(key)
            var entries = record.flatMap { SessionDictionary($0.value) } ?? SessionDictionary()
            change(&entries)
            for (handle, entry) in entries.entries {
                if let created = Self.created(entry), !hasOutlived(created: created, now: now) { continue }
                entries[handle] = nil
            }
            // The record lives as long as its longest-lived entry; an empty one expires at once.
            var expires: UnixTime? = now
            if !entries.isEmpty {
                expires =
                    options.expiry.absolute.map { absolute in
                        entries.compactMap { Self.created($0.value) }.max().map { $0 + absolute } ?? now
                    }
            }
            let updated = Record(entries.value, expires: expires)
            guard index.capabilities.compareAndSwap else {
                try await index.base.set(key, to: updated)
                return
            }
            if try await index.base.compareAndSwap(key, expecting: record?.version, with: updated) != nil {
                return
            }
            try await Self.backOff(round)
        }
        throw SessionError(.conflict, "the user index kept changing under this update", layer: "SessionManager")
    }
}
