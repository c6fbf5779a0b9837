import ArgumentParser
import Foundation
import Serializers
import SessionPipeline

#if SQLite
    import SessionPipelineSQLite
#endif
#if PostgreSQL
    import SessionPipelinePostgres
#endif

/// `sessionctl`: keys, envelopes, and the maintenance of any store a configuration string
/// describes.
@main
struct SessionCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessionctl",
        abstract: "Keys, envelopes and maintenance for SessionPipeline stores.",
        discussion: """
            A store is described by a configuration string (docs/CONFIGURATION.md), for example
              driver:file;root=/var/lib/app/sessions;serializer:binary;encrypt:env=SESSION_KEYS
            Keys are read from an environment variable or a file in the key-ring text form
            ID:BASE64,ID:BASE64 (primary first). --key-base64 exists for tests and interoperability
            checks only: a key on a command line is visible to every user of the machine.

            Exit codes:
              0   success
              1   refused: an envelope that does not open (tampered, expired, bound to another
                  context, sealed under an unknown key), or a copy that does not verify
              2   invalid input: malformed envelope text, a bad key, a bad configuration string
              3   the store failed (I/O, database, corrupt record)
              64  a command-line usage error
            Errors are one line on standard error; nothing is written to standard output on failure.
            """,
        subcommands: [
            Keygen.self, Seal.self, Open.self, Inspect.self, Purge.self, Rekey.self, Migrate.self, Stats.self,
            Bench.self,
        ]
    )
}

// MARK: Failures and output

/// Ends the command with an exit code after one line on standard error.
struct Failure: Error {
    let code: Int32
    let message: String

    static func refused(_ message: String) -> Failure { Failure(code: 1, message: message) }
    static func invalid(_ message: String) -> Failure { Failure(code: 2, message: message) }
    static func store(_ message: String) -> Failure { Failure(code: 3, message: message) }

    /// The failure for a library error: refused for envelopes and keys that do not match, invalid
    /// for bad input, a store failure otherwise.
    static func from(_ error: any Error) -> Failure {
        guard let error = error as? SessionError else { return .store("\(error)") }
        let text = "\(error.layer): \(error.message)"
        switch error.code {
        case .authenticationFailed, .unknownKeyID, .expired: return .refused(text)
        case .invalidKey, .invalidValue, .invalidConfiguration, .malformed, .unknownFormat, .tooLarge, .typeMismatch:
            return .invalid(text)
        default: return .store(text)
        }
    }
}

/// Runs a command's body, turning every failure into one line on standard error and an exit code.
func running(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as Failure {
        standardError("sessionctl: \(failure.message)")
        throw ExitCode(failure.code)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let failure = Failure.from(error)
        standardError("sessionctl: \(failure.message)")
        throw ExitCode(failure.code)
    }
}

func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func standardOutput(_ bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes))
}

/// Everything on standard input.
func readStandardInput() -> [UInt8] {
    [UInt8](FileHandle.standardInput.readDataToEndOfFile())
}

// MARK: Keys

/// Where keys come from: bare keys on the command line, or a key ring from the environment or a
/// file.
struct KeyOptions: ParsableArguments {
    @Option(
        name: .customLong("key-base64"),
        help: ArgumentHelp(
            "A 32-byte key in base64 (repeatable). For tests and interoperability checks only.",
            discussion: "A key on the command line is visible to other users of the machine."))
    var keys: [String] = []

    @Option(
        name: .customLong("keys-env"),
        help: "An environment variable holding a key ring (ID:BASE64,…, primary first).")
    var environment: String?

    @Option(name: .customLong("keys-file"), help: "A file holding a key ring (ID:BASE64,…, primary first).")
    var file: String?

    /// The key ring from the environment or a file, if one was named.
    func ring() throws -> KeyRing? {
        if let environment { return try KeyRing(environment: environment) }
        if let file { return try KeyRing(contentsOfFile: file) }
        return nil
    }

    /// The bare keys.
    func bareKeys() throws -> [SecretKey] {
        try keys.map { try SecretKey(base64: $0) }
    }

    var isEmpty: Bool { keys.isEmpty && environment == nil && file == nil }

    func validate() throws {
        if environment != nil && file != nil {
            throw ValidationError("name a key ring once: --keys-env or --keys-file")
        }
        if !keys.isEmpty && (environment != nil || file != nil) {
            throw ValidationError("use either --key-base64 or a key ring (--keys-env, --keys-file), not both")
        }
    }
}

// MARK: Stores

/// The configuration-string registry with every driver this build has.
func registry() -> ConfigurationRegistry {
    var registry = ConfigurationRegistry.standard
    #if SQLite
        registry.registerSQLite()
    #endif
    #if PostgreSQL
        registry.registerPostgres()
    #endif
    return registry
}

/// A store opened from its configuration string, with its driver.
struct OpenedStore {
    let store: SessionStore
    let driver: AnyRecordStore<[UInt8]>

    init(_ configuration: String) async throws {
        (store, driver) = try registry().build(configuration)
        #if PostgreSQL
            if let postgres = driver.base as? PostgresDriver { try await postgres.migrate() }
        #endif
    }

    /// Every key the driver holds, as stored.
    func keys() async throws -> [SessionKey] {
        var keys: [SessionKey] = []
        for try await key in driver.keys() { keys.append(key) }
        return keys
    }

    /// Every key as the store's users gave it (a namespace's prefix taken off), for commands that
    /// read and write through the whole store; refused when the store cannot give them back (a
    /// hash-ids layer stores only digests).
    func originalKeys(_ command: String) async throws -> [SessionKey] {
        guard store.capabilities.traversal == .originalKeys else {
            throw Failure.invalid(
                "\(command) needs a store that lists its keys as they were given (a hash-ids layer does not)")
        }
        var keys: [SessionKey] = []
        for try await key in store.keys() { keys.append(key) }
        return keys
    }
}

// MARK: Progress

/// How progress is shown.
enum ProgressStyle: String, ExpressibleByArgument, CaseIterable {
    /// A bar when standard error is a terminal, nothing otherwise.
    case auto
    /// A bar redrawn in place.
    case bar
    /// A line per tenth of a second at most (`rekey 1200/50000`), for logs.
    case lines
    /// Nothing until the summary.
    case none
}

/// The `--progress` option of the maintenance commands.
struct ProgressOptions: ParsableArguments {
    @Option(help: "Progress on standard error: auto (a bar on a terminal), bar, lines or none.")
    var progress: ProgressStyle = .auto
}

/// Progress on standard error, as ``ProgressStyle`` says.
final class Progress: @unchecked Sendable {
    private let label: String
    private let style: ProgressStyle
    private let lock = NSLock()
    private var last = ContinuousClock.now - .seconds(1)

    init(_ label: String, _ options: ProgressOptions) {
        self.label = label
        self.style = options.progress == .auto ? (isatty(2) == 1 ? .bar : .none) : options.progress
    }

    func update(_ done: Int, of total: Int) {
        guard style != .none else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        guard now - last >= .milliseconds(100) || done == total else { return }
        last = now
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let line: String
        if style == .lines {
            line = "\(label) \(done)/\(total)\n"
        } else {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            line = "\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total)"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard style == .bar else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

func seconds(since start: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock.now - start
    let value = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return String(format: "%.1f", value)
}
