import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A driver that keeps one file per record under a root directory.
///
/// **Layout.** A record's file is named by the BLAKE2b-128 digest of its key in hex, inside
/// fan-out directories named by the digest's first bytes (`root/3f/3fa4…e1` with the default one
/// level of 256 directories), so a million sessions spread over 256 directories of about 4,000
/// files. Because file names are digests, no key — however hostile — can address a path outside
/// the root; keys are also validated before they get here. The file holds the key, the expiry, a
/// version and a CRC-32 (see `docs/FORMAT.md`), so a corrupt or misplaced file reads as
/// ``SessionError/Code/corrupt``, never as someone else's session.
///
/// **Atomic writes.** A write goes to a temporary file in the same directory (created with
/// `O_EXCL`, mode 0600), is flushed with `fsync`, and is renamed over the record's file; the
/// directory is then flushed too. A reader therefore sees the whole old file or the whole new one,
/// never a mix, even with writers in several processes. Writes, deletes and compare-and-swap on
/// one directory are serialized by an advisory lock (`flock`) on the directory's `.lock` file,
/// which works across processes. Set ``Configuration/durability`` to ``Durability/none`` to skip the
/// two `fsync`s: much faster, still atomic, but a power failure may lose recent writes.
///
/// **Crash leftovers.** A writer killed between creating its temporary file and renaming it
/// leaves a `*.tmp` file behind. Temporary files older than
/// ``Configuration/staleTemporaryFileAge`` (10 minutes by default; a live write takes milliseconds)
/// are removed when the driver opens (``Configuration/removeStaleTemporaryFilesOnOpen``), by
/// ``deleteExpired()``, and by ``removeStaleTemporaryFiles()``. Younger ones are never touched.
///
/// **Permissions.** Directories are created 0700 and files 0600.
///
/// ```swift
/// let driver = try FileDriver(root: "/var/lib/app/sessions")
/// let store = try SessionStore.pipeline()
///     .serialized(writing: JSONSerializer())
///     .driver(driver)
/// ```
///
/// System calls run on a Dispatch worker thread rather than the caller's, so slow disks do not
/// block Swift concurrency's cooperative threads (``Configuration/offloadIO``).
public struct FileDriver: RecordStore, ConfigurationDescribable {
    /// Record values are bytes.
    public typealias Value = [UInt8]

    /// How hard a write works to survive a power failure.
    public enum Durability: Sendable, Hashable {
        /// `fsync` the file before the rename and the directory after it (the default).
        case fsync
        /// No `fsync`: writes are still atomic, but the last ones may be lost on power failure.
        case none
    }

    /// Settings of a file driver.
    public struct Configuration: Sendable {
        /// Whether writes are flushed to disk. Default ``Durability/fsync``.
        public var durability: Durability
        /// Levels of 256 fan-out directories: 0, 1 (the default) or 2.
        public var fanOutLevels: Int
        /// Temporary files older than this are leftovers of a crashed writer. Default 10 minutes.
        public var staleTemporaryFileAge: Duration
        /// Whether opening the driver removes stale temporary files (it lists every directory, which
        /// takes about a second per million records). Default `true`.
        public var removeStaleTemporaryFilesOnOpen: Bool
        /// The largest value accepted, in bytes. Default 16 MiB.
        public var maximumValueSize: Int
        /// Whether system calls run on a Dispatch worker thread instead of the calling task's
        /// thread. Default `true`.
        public var offloadIO: Bool
        /// Called after a temporary file is written and before it is renamed, with the temporary
        /// file's path; for crash-safety tests.
        @_spi(Testing) public var afterTemporaryFileWritten: (@Sendable (String) -> Void)?

        /// Creates a configuration.
        ///
        /// - Precondition: `fanOutLevels` is 0, 1 or 2; `maximumValueSize` is positive.
        public init(
            durability: Durability = .fsync,
            fanOutLevels: Int = 1,
            staleTemporaryFileAge: Duration = .seconds(600),
            removeStaleTemporaryFilesOnOpen: Bool = true,
            maximumValueSize: Int = 16 << 20,
            offloadIO: Bool = true
        ) {
            precondition((0...2).contains(fanOutLevels), "fanOutLevels must be 0, 1 or 2")
            precondition(maximumValueSize > 0 && maximumValueSize <= Int(UInt32.max), "maximumValueSize out of range")
            self.durability = durability
            self.fanOutLevels = fanOutLevels
            self.staleTemporaryFileAge = staleTemporaryFileAge
            self.removeStaleTemporaryFilesOnOpen = removeStaleTemporaryFilesOnOpen
            self.maximumValueSize = maximumValueSize
            self.offloadIO = offloadIO
        }
    }

    /// The directory that holds every record.
    public let root: String
    /// The driver's settings.
    public let configuration: Configuration
    /// The clock expiry is checked against.
    public let clock: any SessionClock

    /// Opens (creating if needed, mode 0700) the store under `root`.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/io`` when the directory cannot be
    ///   created or read.
    public init(root: String, configuration: Configuration = Configuration(), clock: any SessionClock = SystemClock())
        throws
    {
        var root = root
        while root.count > 1 && root.hasSuffix("/") {
            root.removeLast()
        }
        guard !root.isEmpty else {
            throw SessionError(.invalidConfiguration, "the root directory path is empty", layer: POSIX.layer)
        }
        self.root = root
        self.configuration = configuration
        self.clock = clock
        try POSIX.makeDirectories(root)
        if configuration.removeStaleTemporaryFilesOnOpen {
            _ = try removeStaleTemporaryFilesNow()
        }
    }

    /// `driver:file,root=/var/lib/app/sessions,fsync=yes,fanout=1`.
    public var configurationComponent: String {
        "driver:file,root=\(ConfigurationText.escape(root)),fsync=\(configuration.durability == .fsync ? "yes" : "no"),"
            + "fanout=\(configuration.fanOutLevels)"
    }

    /// Compare-and-swap, original keys, any bytes.
    public var capabilities: StoreCapabilities {
        StoreCapabilities(compareAndSwap: true, traversal: .originalKeys)
    }

    // MARK: Paths

    struct Location {
        let directory: String
        let file: String
        let name: String
    }

    /// The path of the file that holds `key`'s record, whether or not it exists: for operators
    /// looking for one session on disk.
    public func filePath(for key: SessionKey) -> String {
        location(of: key).file
    }

    func location(of key: SessionKey) -> Location {
        let digest = Sodium.genericHash(key.rawValue.utf8, outputLength: 16)
        let name = hex(digest)
        var directory = root
        for level in 0..<configuration.fanOutLevels {
            directory += "/" + hex(digest[level..<(level + 1)])
        }
        return Location(directory: directory, file: directory + "/" + name, name: name)
    }

    private func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: Operations

    /// Reads the record under `key`; `nil` when there is none or it has expired.
    ///
    /// - Throws: ``SessionError/Code/corrupt`` when the file fails its checks,
    ///   ``SessionError/Code/io`` when it cannot be read.
    public func get(_ key: SessionKey) async throws -> Record<[UInt8]>? {
        let location = location(of: key)
        let now = clock.now()
        return try await perform {
            guard let record = try readRecord(at: location, key: key) else { return nil }
            return record.hasExpired(at: now) ? nil : record
        }
    }

    /// Writes `record` under `key` atomically.
    ///
    /// - Throws: ``SessionError/Code/tooLarge`` above ``Configuration/maximumValueSize``,
    ///   ``SessionError/Code/io`` when the disk refuses (full, read-only, permissions).
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<[UInt8]>) async throws -> RecordVersion? {
        try checkSize(record)
        let location = location(of: key)
        return try await perform {
            try withLock(location) {
                try write(record, key: key, at: location, version: Sodium.randomUInt64())
            }
        }
    }

    /// Writes `record` if the live record's version is `expected` (or, for `nil`, if there is none).
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<[UInt8]>
    ) async throws -> RecordVersion? {
        try checkSize(record)
        let location = location(of: key)
        let now = clock.now()
        return try await perform {
            try withLock(location) {
                var current: RecordVersion?
                if let existing = try readRecord(at: location, key: key), !existing.hasExpired(at: now) {
                    current = existing.version
                }
                guard current == expected else { return nil }
                return try write(record, key: key, at: location, version: Sodium.randomUInt64())
            }
        }
    }

    /// Removes the file for `key`.
    @discardableResult
    public func delete(_ key: SessionKey) async throws -> Bool {
        let location = location(of: key)
        return try await perform {
            try withLock(location) {
                guard try POSIX.removeFile(location.file) else { return false }
                if configuration.durability == .fsync {
                    try POSIX.fsyncDirectory(location.directory)
                }
                return true
            }
        }
    }

    /// Rewrites the record under `key` with a new expiry, keeping its value and version.
    @discardableResult
    public func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool {
        let location = location(of: key)
        let now = clock.now()
        return try await perform {
            try withLock(location) {
                guard var record = try readRecord(at: location, key: key), !record.hasExpired(at: now) else {
                    return false
                }
                record.expires = expires
                _ = try write(
                    record, key: key, at: location, version: record.version?.rawValue ?? Sodium.randomUInt64())
                return true
            }
        }
    }

    /// Removes every expired record, and temporary files older than
    /// ``Configuration/staleTemporaryFileAge``. Files that are not valid records are moved to
    /// `root/quarantine/` for inspection instead of being deleted or blocking the sweep.
    ///
    /// - Returns: how many expired records were removed.
    public func deleteExpired() async throws -> Int {
        try await deleteExpired(progress: nil)
    }

    /// ``deleteExpired()``, calling `progress` after each fan-out directory with the directories
    /// swept so far and their number (for a progress bar).
    ///
    /// - Returns: how many expired records were removed.
    public func deleteExpired(
        progress: (@Sendable (_ directoriesSwept: Int, _ directories: Int) -> Void)?
    ) async throws -> Int {
        let now = clock.now()
        return try await perform {
            var removed = 0
            let directories = try bucketDirectories()
            for (index, directory) in directories.enumerated() {
                removed += try sweep(directory, now: now, expiredRecords: true).expired
                progress?(index + 1, directories.count)
            }
            return removed
        }
    }

    /// Removes temporary files older than ``Configuration/staleTemporaryFileAge``.
    ///
    /// - Returns: how many were removed.
    @discardableResult
    public func removeStaleTemporaryFiles() async throws -> Int {
        try await perform { try removeStaleTemporaryFilesNow() }
    }

    /// Every key with a file, read from the files' headers one directory at a time (expired
    /// records not yet removed included).
    ///
    /// Iteration throws ``SessionError/Code/corrupt`` at a file whose header is not a record's;
    /// ``deleteExpired()`` moves such files to `root/quarantine/`.
    public func keys() -> Keys {
        Keys(driver: self)
    }

    // MARK: Work on the calling thread

    /// Runs `work` on a Dispatch worker thread, or inline when ``Configuration/offloadIO`` is off.
    func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard configuration.offloadIO else { return try work() }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    private func checkSize(_ record: Record<[UInt8]>) throws {
        guard record.value.count <= configuration.maximumValueSize else {
            throw SessionError(
                .tooLarge,
                "a value of \(record.value.count) bytes exceeds the limit of \(configuration.maximumValueSize)",
                layer: POSIX.layer
            )
        }
    }

    /// Holds the exclusive advisory lock of `location`'s directory while `body` runs, creating the
    /// directory when it is missing.
    private func withLock<T>(_ location: Location, _ body: () throws -> T) throws -> T {
        let lockPath = location.directory + "/.lock"
        var fd = POSIX.openFile(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
        if fd < 0 && errno == ENOENT {
            try POSIX.makeDirectories(location.directory)
            fd = POSIX.openFile(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
        }
        guard fd >= 0 else { throw POSIX.failure("open lock", lockPath) }
        defer { POSIX.closeFile(fd) }
        guard POSIX.retrying({ flock(fd, LOCK_EX) }) == 0 else { throw POSIX.failure("lock", lockPath) }
        return try body()
    }

    /// Reads and verifies the file at `location`; `nil` when it does not exist.
    private func readRecord(at location: Location, key: SessionKey) throws -> Record<[UInt8]>? {
        let fd = POSIX.openFile(location.file, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw POSIX.failure("open", location.file)
        }
        defer { POSIX.closeFile(fd) }
        let size = try POSIX.fileSize(fd, path: location.file)
        let limit =
            RecordFile.headerLength + SessionKey.maximumLength + configuration.maximumValueSize
            + RecordFile.trailerLength
        guard size <= limit else {
            throw SessionError(
                .corrupt,
                "\(location.file) is \(size) bytes, more than any record this driver writes",
                layer: POSIX.layer
            )
        }
        let bytes = try POSIX.readFile(fd, count: size, path: location.file)
        do {
            return try RecordFile.decode(bytes, expecting: key).1
        } catch {
            throw SessionError(.corrupt, "\(location.file): \(error.message)", layer: POSIX.layer)
        }
    }

    /// Writes a temporary file and renames it over `location`; returns the version written. The
    /// caller holds the lock.
    private func write(_ record: Record<[UInt8]>, key: SessionKey, at location: Location, version: UInt64) throws
        -> RecordVersion
    {
        let bytes = RecordFile.encode(key: key, record: record, version: version)
        let temporary =
            location.directory + "/" + location.name + "." + String(Sodium.randomUInt64(), radix: 16)
            + ".tmp"
        let fd = POSIX.openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw POSIX.failure("create", temporary) }
        do {
            try POSIX.writeAll(fd, bytes, path: temporary)
            if configuration.durability == .fsync {
                try POSIX.sync(fd, path: temporary)
            }
        } catch {
            POSIX.closeFile(fd)
            _ = try? POSIX.removeFile(temporary)
            throw error
        }
        POSIX.closeFile(fd)
        configuration.afterTemporaryFileWritten?(temporary)
        do {
            try POSIX.renameFile(temporary, location.file)
        } catch {
            _ = try? POSIX.removeFile(temporary)
            throw error
        }
        if configuration.durability == .fsync {
            try POSIX.fsyncDirectory(location.directory)
        }
        return RecordVersion(rawValue: version)
    }

    // MARK: Scanning

    /// The directories that hold record files, found by listing the fan-out levels.
    func bucketDirectories() throws -> [String] {
        var directories = [root]
        for _ in 0..<configuration.fanOutLevels {
            var next: [String] = []
            for directory in directories {
                for name in try POSIX.list(directory) where name.utf8.count == 2 && name.utf8.allSatisfy(isHexDigit) {
                    next.append(directory + "/" + name)
                }
            }
            directories = next
        }
        return directories.sorted()
    }

    private func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Whether `name` is a record file's name: 32 lowercase hex digits.
    func isRecordFileName(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy(isHexDigit)
    }

    private func isTemporaryFileName(_ name: String) -> Bool {
        name.hasSuffix(".tmp") && name.utf8.count > 36 && isRecordFileName(String(name.prefix(32)))
    }

    private func removeStaleTemporaryFilesNow() throws -> Int {
        try bucketDirectories().reduce(0) { total, directory in
            total + (try sweep(directory, now: clock.now(), expiredRecords: false).temporaries)
        }
    }

    /// Removes stale temporary files in `directory` and, when `expiredRecords` is set, expired
    /// records. Returns how many of each were removed.
    private func sweep(_ directory: String, now: UnixTime, expiredRecords: Bool) throws -> (
        expired: Int, temporaries: Int
    ) {
        let staleBefore = now - configuration.staleTemporaryFileAge
        var candidates: [String] = []
        var temporaries = 0
        for name in try POSIX.list(directory) {
            let path = directory + "/" + name
            if isTemporaryFileName(name) {
                if let modified = try POSIX.modificationTime(path), modified <= staleBefore.seconds,
                    try POSIX.removeFile(path)
                {
                    temporaries += 1
                }
            } else if expiredRecords && isRecordFileName(name) {
                switch try headerState(path, now: now) {
                case .expired: candidates.append(name)
                case .unreadable: try quarantine(path, name: name)
                case .live, .missing: break
                }
            }
        }
        guard !candidates.isEmpty else { return (0, temporaries) }
        // Re-check under the lock: a writer may have replaced the file since it was read.
        let lock = Location(directory: directory, file: "", name: "")
        let expired = try withLock(lock) {
            var removed = 0
            for name in candidates {
                let path = directory + "/" + name
                if case .expired = try headerState(path, now: now), try POSIX.removeFile(path) {
                    removed += 1
                }
            }
            if removed > 0 && configuration.durability == .fsync {
                try POSIX.fsyncDirectory(directory)
            }
            return removed
        }
        return (expired, temporaries)
    }

    private enum HeaderState {
        case live
        case expired
        case missing
        case unreadable
    }

    private func headerState(_ path: String, now: UnixTime) throws -> HeaderState {
        let fd = POSIX.openFile(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return .missing }
            throw POSIX.failure("open", path)
        }
        defer { POSIX.closeFile(fd) }
        let bytes = try POSIX.readFile(fd, count: RecordFile.headerLength, path: path)
        guard let header = bytes.withUnsafeBytes({ RecordFile.header($0) }) else { return .unreadable }
        return header.expires.hasExpired(at: now) ? .expired : .live
    }

    /// Moves a file that is not a record aside; another sweeper may have moved it first.
    private func quarantine(_ path: String, name: String) throws {
        let directory = root + "/quarantine"
        try POSIX.makeDirectories(directory)
        let destination = directory + "/" + name + "." + String(Sodium.randomUInt64(), radix: 16)
        guard rename(path, destination) == 0 || errno == ENOENT else {
            throw POSIX.failure("quarantine", path)
        }
    }

    /// Reads the key stored in the file at `path`; `nil` if the file vanished.
    func storedKey(at path: String) throws -> SessionKey? {
        let fd = POSIX.openFile(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw POSIX.failure("open", path)
        }
        defer { POSIX.closeFile(fd) }
        let bytes = try POSIX.readFile(fd, count: RecordFile.headerLength + SessionKey.maximumLength, path: path)
        guard let key = bytes.withUnsafeBytes({ RecordFile.key(fromPrefix: $0) }) else {
            throw SessionError(.corrupt, "\(path): not a version-1 record file", layer: POSIX.layer)
        }
        return key
    }
}

extension FileDriver {
    /// The keys of a file store, read one fan-out directory at a time so that memory use stays
    /// proportional to one directory, not the whole store.
    public struct Keys: AsyncSequence, Sendable {
        let driver: FileDriver

        /// Walks the directories.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let driver: FileDriver
            var directories: [String]?
            var pending: [String] = []

            /// The next key, or `nil` when every directory has been read.
            public mutating func next() async throws -> SessionKey? {
                if directories == nil {
                    let driver = self.driver
                    directories = try await driver.perform { try driver.bucketDirectories() }.reversed()
                }
                while true {
                    while let path = pending.popLast() {
                        let driver = self.driver
                        if let key = try await driver.perform({ try driver.storedKey(at: path) }) {
                            return key
                        }
                    }
                    guard let directory = directories?.popLast() else { return nil }
                    let driver = self.driver
                    pending = try await driver.perform {
                        try POSIX.list(directory).filter(driver.isRecordFileName).map { directory + "/" + $0 }
                    }
                }
            }
        }

        /// Starts the walk.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(driver: driver)
        }
    }
}
