import Foundation
import SessionPipeline

/// What a finished process left.
struct Finished {
    var status: Int32
    var output: [UInt8]
    var error: String

    var text: String { String(decoding: output, as: UTF8.self) }
}

/// A child process started with posix_spawn, its standard streams in files; waiting happens on a
/// thread of its own, so no task's thread blocks.
final class Child: @unchecked Sendable {
    let pid: pid_t
    private let directory: String
    /// The file standard error goes to.
    var errorPath: String { directory + "/err" }

    /// Starts `executable` with `arguments`, `input` on its standard input and `environment` added
    /// to this process's.
    init(_ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) throws {
        directory = NSTemporaryDirectory() + "sessionctl-child-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(input).write(to: URL(fileURLWithPath: directory + "/in"))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, directory + "/in", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, directory + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else { throw SessionError(.io, "cannot start \(executable) (\(status))", layer: "tests") }
        self.pid = pid
    }

    /// Waits for the process to end.
    func wait() async -> Finished {
        let pid = self.pid
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let output = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/out"))) ?? Data()
        let error = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: directory)
        // WIFEXITED: the low 7 bits are 0; the exit status is the next byte. A signal reads as 128+N.
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Finished(status: code, output: [UInt8](output), error: error)
    }

    func kill() {
        Foundation.kill(pid, SIGKILL)
    }
}

/// The directory of the built products (where `sessionctl` is, next to the test bundle).
func productsDirectory() -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
}

/// Runs `sessionctl` to the end.
func sessionctl(_ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) async throws
    -> Finished
{
    try await Child(productsDirectory() + "/sessionctl", arguments, input: input, environment: environment).wait()
}

/// Runs `scripts/check_envelopes.py` (an XChaCha20-Poly1305 that shares no code with libsodium).
func independentImplementation(_ arguments: [String], input: [UInt8]) async throws -> Finished {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/check_envelopes.py").path
    return try await Child("/usr/bin/env", ["python3", script] + arguments, input: input).wait()
}

/// A directory removed at the end of a test.
struct TemporaryDirectory {
    let path: String

    init(_ name: String) throws {
        path = NSTemporaryDirectory() + "sessionctl-\(name)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
