// Vector loops for base64url: the bulk of an encoding or decoding, thirty-two characters per step
// with AVX2 where the processor has it, then sixteen with SSSE3.
//
// Each function does what it can in whole blocks and returns how much it did; the caller (Swift's
// `Base64`) finishes the rest with its table-driven loop, which also checks the last characters'
// padding bits. Both do nothing, and return 0, on a machine without the vector instructions they
// use (x86-64 without SSSE3, or another architecture), where the table loop does all the work.
//
// The loops run in time that depends on the data, as the table loop does: they are for public
// bytes (ciphertext), never for secrets.

#ifndef SESSION_BASE64_H
#define SESSION_BASE64_H

#include <stddef.h>
#include <stdint.h>

/// Encodes the longest prefix of `input` made of whole 12-byte blocks that leaves at least four
/// bytes after it unread (each block is read with a 16-byte load), writing 16 base64url
/// characters per block to `output`, which has room for them. Returns the number of input bytes encoded, a multiple of 12.
size_t session_base64url_encode_blocks(const uint8_t *input, size_t count, uint8_t *output);

/// Decodes the longest prefix of the base64url text `input` made of whole 16-character blocks,
/// writing 12 bytes per block to `output`, which has room for `count / 4 * 3` bytes. Returns the
/// number of characters decoded, a multiple of 16, or -1 when a decoded block holds a character
/// outside the base64url alphabet.
long session_base64url_decode_blocks(const uint8_t *input, size_t count, uint8_t *output);

#endif
