import Foundation
import Serializers
import SessionPipeline
import Synchronization
import Testing

@testable import CustomLayer

/// One example of `docs/CONFIGURATION.md`: a configuration string and what it sends to the driver.
struct DocumentedConfiguration: Sendable, CustomTestStringConvertible {
    let text: String
    /// Frames from the outside in: `envelope(key 2)`, `signed(key 2)`, `zstd`, `deflate`, `stored`,
    /// or a serializer's name.
    let frames: [String]
    /// `session:ID`, `shop:session:ID` or `session:HASH`.
    let key: String

    var testDescription: String { text }

    static let all: [DocumentedConfiguration] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/CONFIGURATION.md")
        guard let document = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var examples: [DocumentedConfiguration] = []
        var pending: String?
        var inBlock = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```config" {
                inBlock = true
            } else if inBlock && line == "```" {
                inBlock = false
            } else if inBlock {
                pending = String(line)
            } else if let text = pending, line.hasPrefix("Reaches the driver as: `") {
                let parts = line.split(separator: "`")
                examples.append(
                    DocumentedConfiguration(
                        text: text,
                        frames: parts[1].components(separatedBy: " > "),
                        key: String(parts[3])
                    )
                )
                pending = nil
            }
        }
        return examples
    }()
}

/// Remembers the drivers a registry builds, so a test can look at what reached them.
final class DriverCapture: Sendable {
    let drivers = Mutex<[AnyRecordStore<[UInt8]>]>([])

    func registry() -> ConfigurationRegistry {
        var registry = ConfigurationRegistry.standard
        let standard = ConfigurationRegistry.standard
        for name in ["memory", "file"] {
            registry.register(driver: name) { [self] component, clock in
                let driver = try standard.driverForTesting(name, component, clock)
                drivers.withLock { $0.append(driver) }
                return driver
            }
        }
        return registry
    }
}

extension ConfigurationRegistry {
    /// Builds only the driver of a one-driver configuration, through the registry's own factory.
    fileprivate func driverForTesting(
        _ name: String,
        _ component: ConfigurationComponent,
        _ clock: any SessionClock
    ) throws -> AnyRecordStore<[UInt8]> {
        let arguments = component.arguments.map { "\($0.key)=\(ConfigurationText.escape($0.value))" }
        let text = (["driver:\(name)"] + arguments).joined(separator: ",") + ";serializer:json"
        guard let base = try store(text, clock: clock).base.base as? Serialized<AnyRecordStore<[UInt8]>> else {
            throw SessionError(.unsupported, "unexpected pipeline", layer: "tests")
        }
        return base.base
    }
}

struct ConfigurationDocumentationTests {
    @Test func theDocumentationHasExamples() {
        #expect(DocumentedConfiguration.all.count >= 6)
    }

    @Test(arguments: DocumentedConfiguration.all)
    func everyDocumentedConfigurationBehavesAsDescribed(_ example: DocumentedConfiguration) async throws {
        TestEnvironment.install()
        let directory = try freshDirectory()
        let capture = DriverCapture()
        let registry = capture.registry()
        let store = try registry.store(example.text.replacingOccurrences(of: "$DIR", with: directory))
        let id = SessionID.random()
        // About 350 bytes, compressible: above the default compression threshold.
        let session: SessionDictionary = [
            "user": "alice", "cart": [["sku": "SKU-1", "qty": 2]],
            "notes": .string(String(repeating: "note ", count: 60)),
        ]
        try await store.save(session, for: id, expires: store.clock.now() + .seconds(3600))
        #expect(try await store.load(id) == session)

        let driver = try #require(capture.drivers.withLock { $0.first })
        var stored: [SessionKey] = []
        for try await key in driver.keys() { stored.append(key) }
        let key = try #require(stored.first)
        #expect(stored.count == 1)
        switch example.key {
        case "session:ID": #expect(key == .session(id))
        case "shop:session:ID": #expect(key.rawValue == "shop:session:" + id.rawValue)
        case "session:HASH":
            #expect(key.prefix == .session && key.id.count == 64 && key.id.allSatisfy(\.isHexDigit))
        default: Issue.record("unknown key form \(example.key)")
        }

        var bytes = try #require(try await driver.get(key)).value
        let keys = try TestEnvironment.keyRing()
        for frame in example.frames {
            switch frame {
            case "envelope(key 2)":
                #expect(try Encryption.header(of: bytes).keyID == 2)
                bytes = try Encryption(keys: keys).open(bytes, context: key.rawValue, now: store.clock.now()).plaintext
            case "signed(key 2)":
                let verified = try Signing(keys: keys).verify(bytes, context: key.rawValue, now: store.clock.now())
                #expect(verified.keyID == 2)
                bytes = verified.payload
            case "zstd", "deflate", "stored":
                let tags: [String: UInt8] = ["stored": 0x10, "deflate": 0x11, "zstd": 0x12]
                #expect(bytes.first == tags[frame], "\(frame)")
                bytes = try Compression(.zstd()).decompress(bytes)
            default:
                let serializer = try #require(StandardFormats.all.first { $0.name == frame })
                #expect(bytes.first == serializer.tag)
                #expect(try serializer.deserialize(bytes) == session.value)
            }
        }

        // The store prints a configuration that builds the same store.
        let printed = store.configuration
        #expect(!printed.contains(TestEnvironment.primaryKey))
        #expect(try registry.store(printed).configuration == printed)
    }
}

struct ConfigurationParsingTests {
    /// Found by the `configuration` fuzz target: a name holding an escaped ';' printed unescaped,
    /// so the printed component read back as two. Names and values print escaped, whitespace,
    /// control and non-ASCII characters included, and read back the same.
    @Test(arguments: [
        "driver:file-p/a%3Bb,fsync=no,fanout=2",
        "driver:file,root=%20padded%20",
        "driver:fil%C3%A9,root=/srv/sessi%C3%B3ns,note=a%2Cb%3Dc%25d",
        "driver:x,root=%0A%09",
        "driver:x,root=e%CC%81%3D",
    ])
    func printedComponentsReadBackTheSame(_ text: String) throws {
        let components = try ConfigurationComponent.parse(text)
        let printed = components.map(\.description).joined(separator: ";")
        let again = try ConfigurationComponent.parse(printed)
        #expect(again.map(\.kind) == components.map(\.kind))
        #expect(again.map(\.name) == components.map(\.name), "printed as \(printed)")
        #expect(
            again.map { $0.arguments.map { [$0.key, $0.value] } }
                == components.map { $0.arguments.map { [$0.key, $0.value] } }, "printed as \(printed)")
    }

    @Test func normalizesOrderAndArguments() throws {
        TestEnvironment.install()
        let store = try SessionStore(
            configuration:
                " encrypt:env=SESSION_KEYS ; driver:memory ; serializer:binary ; compress:zstd,level=3 ; cache:ttl=60 ",
            registry: .standard
        )
        #expect(
            store.layerNames == [
                "cache:entries=10000,bytes=67108864,ttl=60", "serializer:binary",
                "compress:zstd,level=3,threshold=256,max=16777216", "encrypt:env=SESSION_KEYS", "driver:memory",
            ]
        )
        #expect(store.configuration == store.layerNames.joined(separator: ";"))
    }

    @Test func customLayersAndDriversJoinTheGrammar() async throws {
        var registry = ConfigurationRegistry.standard
        registry.register(byteLayer: "size-limit") { component in
            try component.allowArguments(["max"])
            return SizeLimit(maximumBytes: try component.integer("max", in: 1...(1 << 30)) ?? 65_536)
        }
        let store = try registry.store("driver:memory;serializer:json;size-limit:max=64")
        #expect(store.configuration == "serializer:json;size-limit:max=64;driver:memory")
        try await store.set(try SessionKey("session:a"), "small")
        let error = await #expect(throws: SessionError.self) {
            try await store.set(try SessionKey("session:b"), .string(String(repeating: "x", count: 100)))
        }
        #expect(error?.code == .tooLarge)
    }

    @Test func escapedValuesRoundTrip() throws {
        let directory = try freshDirectory() + "/with;semicolon,comma=equals%percent"
        let store = try SessionStore(
            configuration: "driver:file,root=\(ConfigurationText.escape(directory)),fsync=no;serializer:json",
            registry: .standard
        )
        #expect(FileManager.default.fileExists(atPath: directory))
        #expect(
            try SessionStore(configuration: store.configuration, registry: .standard).configuration
                == store.configuration)
    }

    @Test(arguments: [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("driver:memory;", 15, "nothing after the last ';'"),
        ("driver:memory;;serializer:json", 15, "an empty component"),
        ("root=/tmp;driver:file", 1, "an argument before any component"),
        ("driver", 1, "expected kind:name or key=value"),
        ("driver:memory;serializer:json;driver:file", 31, "a second driver"),
        ("driver:memory", 14, "no serializer"),
        ("serializer:json", 16, "no driver"),
        ("driver:disk;serializer:json", 8, "unknown driver 'disk'"),
        ("driver:memory;serializer:yaml", 26, "unknown serializer 'yaml'"),
        ("driver:memory;serializer:json;compress:zst", 40, "zstd or deflate"),
        ("driver:memory;serializer:json;compress:zstd,level=99", 45, "'level' must be an integer"),
        ("driver:memory;serializer:json;cahce:ttl=5", 31, "unknown component 'cahce'"),
        ("driver:memory,capacity=-1;serializer:json", 15, "'capacity' must be an integer"),
        ("driver:memory;serializer:json;encrypt:keys=AAAA", 39, "does not take the argument 'keys'"),
        ("driver:memory;serializer:json;encrypt:reseal=yes", 31, "needs env=VARIABLE or file=PATH"),
        ("driver:file;serializer:json", 1, "needs the argument 'root'"),
        ("driver:memory;serializer:json;namespace:bad name", 41, "namespace needs a name"),
        ("driver:memory;serializer:json;cache:ttl=soon", 37, "'ttl' must be an integer"),
        ("driver:memory;serializer:json;compress:zstd,threshold=%zz", 55, "two hex digits"),
        ("driver:memory;serializer:json;compress:zstd,,level=1", 45, "an empty item"),
        ("driver:memory;serializer:json;encrypt:env=A,file=B", 31, "not both"),
        ("driver:memory;serializer:json;dri ver:x", 31, "letters, digits"),
    ])
    func malformedStringsFailWithThePosition(_ text: String, position: Int, reason: String) throws {
        let error = #expect(throws: SessionError.self) { try SessionStore(configuration: text, registry: .standard) }
        #expect(error?.code == .invalidConfiguration)
        let message = error?.message ?? ""
        #expect(message.hasPrefix("at character \(position):"), "\(text): \(message)")
        #expect(message.contains(reason), "\(text): \(message)")
    }
}
