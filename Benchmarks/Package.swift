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
    // The drivers' traits without Hummingbird: the benchmarks measure the library, not the server.
    dependencies: [
        .package(path: "..", traits: ["SQLite", "PostgreSQL"]),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The native floor: the same byte work in C, linked to the system's libsodium and zstd.
        .target(
            name: "CFloor",
            linkerSettings: [.linkedLibrary("sodium"), .linkedLibrary("zstd")]
        ),
        // A counting malloc: defined in the executable, so every library in the process uses it.
        .target(name: "CAllocationCounter"),
        .executableTarget(
            name: "SessionBenchmarks",
            dependencies: [
                "CFloor",
                "CAllocationCounter",
                .product(name: "SessionPipeline", package: root),
                .product(name: "Serializers", package: root),
                .product(name: "SessionPipelineSQLite", package: root),
                .product(name: "SessionPipelinePostgres", package: root),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
