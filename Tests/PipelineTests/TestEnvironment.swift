import Foundation
import SessionPipeline

/// The keys the README and the configuration examples read from the environment. Every test that
/// needs them installs the same values, so tests running at the same time agree.
enum TestEnvironment {
    static let primaryKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let olderKey = Data((0..<32).map { UInt8(255 - $0) }).base64EncodedString()
    static let idKey = Data((0..<32).map { UInt8(($0 * 7) & 0xFF) }).base64EncodedString()
    static let ring = "2:\(primaryKey),1:\(olderKey)"

    /// Sets the variables once per process (setting the environment while other threads read it
    /// is not safe).
    static func install() {
        _ = installed
    }

    private static let installed: Bool = {
        setenv("SESSION_KEYS", ring, 1)
        setenv("SESSION_ID_KEY", idKey, 1)
        return true
    }()

    static func keyRing() throws -> KeyRing {
        try KeyRing(text: ring)
    }
}
