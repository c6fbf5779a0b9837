import Foundation

/// The reference session `name` (`session_1k`, `session_8k`) from `Tests/Fixtures`.
func referenceSession(_ name: String) -> String? {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return try? String(contentsOf: directory.appendingPathComponent("Fixtures/\(name).json"), encoding: .utf8)
}
