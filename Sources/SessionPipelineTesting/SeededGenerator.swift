#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small, fast, seedable random number generator (SplitMix64) for reproducible property tests.
///
/// Print the seed with every run so a failure can be replayed:
///
/// ```swift
/// var random = SeededGenerator.fromEnvironment()
/// print("seed: \(random.seed)")
/// let value = SessionValue.random(using: &random)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The seed the generator started from.
    public let seed: UInt64
    private var state: UInt64

    /// Creates a generator from `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        self.state = seed
    }

    /// A generator seeded from the environment variable `SESSION_TEST_SEED` when it holds a number,
    /// otherwise from the system's random source.
    public static func fromEnvironment(_ variable: String = "SESSION_TEST_SEED") -> SeededGenerator {
        if let text = getenv(variable).map({ String(cString: $0) }), let seed = UInt64(text) {
            return SeededGenerator(seed: seed)
        }
        var system = SystemRandomNumberGenerator()
        return SeededGenerator(seed: system.next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
