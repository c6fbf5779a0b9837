// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode plus the upcoming features the
/// project relies on (explicit `any`, internal imports by default, visible members only).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "SessionPipeline",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SessionPipeline", targets: ["SessionPipeline"]),
        .library(name: "Serializers", targets: ["Serializers"]),
        .library(name: "SessionPipelineTesting", targets: ["SessionPipelineTesting"]),
        .library(name: "SessionObservability", targets: ["SessionObservability"]),
        .library(name: "SessionPipelineHummingbird", targets: ["SessionPipelineHummingbird"]),
        .library(name: "SessionPipelineSQLite", targets: ["SessionPipelineSQLite"]),
        .library(name: "SessionPipelinePostgres", targets: ["SessionPipelinePostgres"]),
        .executable(name: "sessionctl", targets: ["sessionctl"]),
        .executable(name: "FileSessions", targets: ["FileSessions"]),
        .executable(name: "CookieSessions", targets: ["CookieSessions"]),
        .executable(name: "CustomLayer", targets: ["CustomLayer"]),
    ],
    // The Hummingbird middleware and its example need Hummingbird; the core never does. The trait is
    // on by default so `swift run CookieSessions` works as is; an application that wants only the
    // core can depend on the package with `traits: []` and never fetch Hummingbird.
    traits: [
        .trait(name: "Hummingbird", description: "The Hummingbird 2 middleware and the CookieSessions example."),
        .trait(name: "SQLite", description: "The SQLite driver (GRDB over the system's SQLite)."),
        .trait(name: "PostgreSQL", description: "The PostgreSQL driver (postgres-nio) and the expiry sweeper service."),
        .default(enabledTraits: ["Hummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from the system, seen only by `Sources/SessionPipeline/Native`.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
        ),

        // Vector loops for base64url (SSSE3 on x86-64), seen only by `Support/Base64.swift`.
        .target(name: "CBase64"),

        // The core: values, keys, store protocols, pipeline composition, drivers and layers.
        .target(
            name: "SessionPipeline",
            dependencies: ["CBase64", "CSodium", "CZlib", "CZstd"],
            swiftSettings: swiftSettings
        ),
        // JSON, property-list and compact binary serializers.
        .target(
            name: "Serializers",
            dependencies: ["SessionPipeline"],
            swiftSettings: swiftSettings
        ),
        // Logging and metrics for any pipeline, kept out of the core so it depends on no logging
        // package.
        .target(
            name: "SessionObservability",
            dependencies: [
                "SessionPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sessions for Hummingbird 2 (with the Hummingbird trait): the middleware, the request
        // context protocol, test helpers.
        .target(
            name: "SessionPipelineHummingbird",
            dependencies: [
                "SessionPipeline",
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"])),
                .product(name: "HTTPTypes", package: "swift-http-types", condition: .when(traits: ["Hummingbird"])),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Hummingbird"])),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQLite driver (with the SQLite trait): durable sessions on one machine.
        .target(
            name: "SessionPipelineSQLite",
            dependencies: [
                "SessionPipeline",
                .product(name: "GRDB", package: "GRDB.swift", condition: .when(traits: ["SQLite"])),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL driver (with the PostgreSQL trait): sessions shared by many app servers.
        .target(
            name: "SessionPipelinePostgres",
            dependencies: [
                "SessionPipeline",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["PostgreSQL"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle",
                    condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: swiftSettings
        ),
        // The conformance suite any driver or layer stack can run, from any test framework.
        .target(
            name: "SessionPipelineTesting",
            dependencies: ["SessionPipeline"],
            swiftSettings: swiftSettings
        ),

        // The operator's tool: keys, envelopes, and maintenance of any store a configuration string
        // describes (with the SQLite and PostgreSQL drivers when their traits are on).
        .executableTarget(
            name: "sessionctl",
            dependencies: [
                "SessionPipeline", "Serializers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .target(name: "SessionPipelineSQLite", condition: .when(traits: ["SQLite"])),
                .target(name: "SessionPipelinePostgres", condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: swiftSettings
        ),

        // Runnable examples.
        .executableTarget(
            name: "FileSessions",
            dependencies: ["SessionPipeline", "Serializers"],
            path: "Examples/FileSessions",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "CookieSessions",
            dependencies: [
                "SessionPipeline", "Serializers", "SessionPipelineHummingbird",
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"])),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Hummingbird"])),
            ],
            path: "Examples/CookieSessions",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CustomLayer",
            dependencies: ["SessionPipeline", "Serializers"],
            path: "Examples/CustomLayer",
            swiftSettings: swiftSettings
        ),

        // libFuzzer harnesses, one per decoder; the tests run the committed seeds through them. Each
        // has a product of its own, added below (`scripts/fuzz.sh --list`).
        .target(
            name: "FuzzTargets",
            dependencies: ["SessionPipeline", "Serializers"],
            path: "Fuzz/FuzzTargets",
            swiftSettings: swiftSettings
        ),

        // A child process for tests that need one: file-driver crashes and contention, descriptor
        // counts, decompression bombs measured in a fresh process.
        .executableTarget(
            name: "TestWorker",
            dependencies: ["SessionPipeline", "CZlib", "CZstd"],
            path: "Tests/TestWorker",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionPipelineTests",
            dependencies: ["SessionPipeline", "SessionPipelineTesting", "TestWorker"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SerializersTests",
            dependencies: ["Serializers", "SessionPipeline"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionObservabilityTests",
            dependencies: [
                "SessionObservability", "SessionPipeline", "SessionPipelineTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionPipelineHummingbirdTests",
            dependencies: [
                "SessionPipeline", "Serializers", "SessionPipelineHummingbird", "CookieSessions",
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"])),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Hummingbird"])),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionPipelineSQLiteTests",
            dependencies: [
                "SessionPipeline", "Serializers", "SessionPipelineSQLite", "SessionPipelineTesting",
                .product(name: "GRDB", package: "GRDB.swift", condition: .when(traits: ["SQLite"])),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionPipelinePostgresTests",
            dependencies: [
                "SessionPipeline", "Serializers", "SessionPipelinePostgres", "SessionPipelineTesting",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["PostgreSQL"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle",
                    condition: .when(traits: ["PostgreSQL"])),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionControlTests",
            dependencies: ["SessionPipeline", "Serializers", "sessionctl"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["SessionPipeline", "Serializers", "SessionPipelineTesting", "CustomLayer", "FuzzTargets"],
            swiftSettings: swiftSettings
        ),
    ]
)

/// One libFuzzer product per fuzz target (`Fuzz/NAME/main.swift`), each built on its own by
/// `scripts/fuzz.sh`.
let fuzzProducts = [
    "FuzzJSON", "FuzzBinary", "FuzzPlistBinary", "FuzzPlistXML", "FuzzEnvelope", "FuzzSigning",
    "FuzzCompression", "FuzzCookieChunks", "FuzzCookieHeader", "FuzzConfiguration",
]
package.targets += fuzzProducts.map { name in
    .executableTarget(
        name: name,
        dependencies: ["FuzzTargets"],
        path: "Fuzz/\(name)",
        swiftSettings: swiftSettings
    )
}
