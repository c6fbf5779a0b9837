// swift-tools-version:6.1
import PackageDescription

// Release-mode benchmarks of SessionPipeline, kept in their own package so the library's build
// stays free of them. Run from the repository root:
//
//     swift run -c release --package-path Benchmarks SessionBenchmarks [SUITE ...]
let package = Package(
    name: "SessionPipelineBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "SessionBenchmarks",
            dependencies: [
                .product(name: "SessionPipeline", package: "SessionPipeline"),
                .product(name: "Serializers", package: "SessionPipeline"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
