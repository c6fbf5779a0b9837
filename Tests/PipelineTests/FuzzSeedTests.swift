import Foundation
import FuzzTargets
import Testing

/// The fuzzers' committed seed corpora (`Fuzz/Corpus/NAME`): every target has one, and every seed
/// is read by its target's decoder (a seed that the decoder refuses would start the fuzzer outside
/// the code it is meant to reach). `SESSION_WRITE_FUZZ_SEEDS=1` rewrites the corpora of the targets
/// whose seeds are made in code (`FuzzTarget.generatedSeeds()`); the serializers' come from the
/// known-answer vectors (`scripts/fuzz-seeds.py`).
@Suite struct FuzzSeedTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    @Test(arguments: FuzzTarget.allCases)
    func everyCommittedSeedIsReadByItsTarget(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        if ProcessInfo.processInfo.environment["SESSION_WRITE_FUZZ_SEEDS"] == "1",
            let seeds = try target.generatedSeeds()
        {
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (index, seed) in seeds.enumerated() {
                try Data(seed).write(to: directory.appendingPathComponent(String(format: "seed-%02d", index)))
            }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names.count >= 5, "\(target.rawValue) has \(names.count) seeds")
        for name in names {
            let seed = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(target.accepts(seed), "\(target.rawValue)'s seed \(name) is refused by its decoder")
        }
    }

    /// Every input a fuzzer once crashed on (`Fuzz/Regressions/NAME/`) is handled now.
    @Test(arguments: FuzzTarget.allCases)
    func everyRecordedCrashInputIsHandled(_ target: FuzzTarget) throws {
        let directory = Self.corpus.deletingLastPathComponent().appendingPathComponent("Regressions/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted() {
            // A broken promise stops the test process here, as it stopped the fuzzer.
            target.accepts(try [UInt8](Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    @Test func eachTargetHasItsOwnProductAndTheFuzzScriptListsThemAll() throws {
        let root = Self.corpus.deletingLastPathComponent().deletingLastPathComponent()
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let script = try String(contentsOf: root.appendingPathComponent("scripts/fuzz.sh"), encoding: .utf8)
        for target in FuzzTarget.allCases {
            #expect(manifest.contains("\"\(target.product)\""), "Package.swift lacks \(target.product)")
            let main = root.appendingPathComponent("Fuzz/\(target.product)/main.swift")
            let source = try String(contentsOf: main, encoding: .utf8)
            let name = "\(target)"
            #expect(source.contains("FuzzTarget.\(name).run"), "\(target.product) does not run \(name)")
            #expect(script.contains("\(target.rawValue):\(target.product)"), "fuzz.sh does not list \(target.rawValue)")
        }
    }
}
