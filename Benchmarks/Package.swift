// swift-tools-version:6.1
import Foundation
import PackageDescription

/// A path dependency's identity is its directory's name, which depends on where the repository
/// was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Release-mode benchmarks of SessionPipeline, kept in their own package so the library's build
// stays free of them. Run from the repository root:
//
//     swift run -c release --package-path Benchmarks SessionBenchmarks [SUITE ...]
let package = Package(
    name: "SessionPipelineBenchmarks",
    platforms: [.macOS(.v15)],
    // Without the root's Hummingbird trait: the benchmarks measure the library, not the server.
    dependencies: [.package(path: "..", traits: [])],
    targets: [
        .executableTarget(
            name: "SessionBenchmarks",
            dependencies: [
                .product(name: "SessionPipeline", package: root),
                .product(name: "Serializers", package: root),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
