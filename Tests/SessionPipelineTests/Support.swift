import Foundation
import SessionPipeline

/// A fresh directory under the system's temporary directory, removed with `remove()`.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = "sessions") throws {
        var template = Array((NSTemporaryDirectory() + "/sessionpipeline-\(label)-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw SessionError(.io, "mkdtemp failed", layer: "tests")
        }
        path = String(cString: created)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Every regular file under `root`, recursively, as paths relative to it.
func filesUnder(_ root: String) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: root)
    var files: [String] = []
    while let path = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue
        {
            files.append(path)
        }
    }
    return files.sorted()
}

/// The permission bits of `path`.
func permissions(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int(info.st_mode) & 0o777
}

/// The directory holding the test binary, where SwiftPM also puts the package's executables.
func productsDirectory() -> String {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().path
}
