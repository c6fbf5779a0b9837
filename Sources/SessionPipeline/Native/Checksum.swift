internal import CZlib

/// CRC-32 (ISO-HDLC, the zlib/gzip polynomial), computed by zlib.
package enum CRC32 {
    /// The checksum of `bytes`, continuing from `initial`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return initial }
        return UInt32(crc32_z(UInt(initial), base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }
}
