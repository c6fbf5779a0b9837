// The native floor: the byte work of a cookie round trip done in plain C with the same libraries
// (libsodium's XChaCha20-Poly1305, zstd with reused contexts) and a table-driven base64url, on the
// same payload bytes as the Swift pipeline, so every Swift figure is published as a ratio to it.
#ifndef SESSION_FLOOR_H
#define SESSION_FLOOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct floor_context floor_context;

/// A context for payloads of up to `capacity` bytes: a random key, zstd contexts and buffers.
floor_context *floor_create(size_t capacity);
void floor_destroy(floor_context *context);

/// One round trip of `payload`: (zstd level 1 when `compress`), seal as a version-1 envelope bound
/// to `context_name`, base64url-encode, decode, open, (decompress), and compare with the input.
/// Returns the length of the base64url text, or -1 when a step failed or the bytes differ.
long floor_round_trip(floor_context *context, const uint8_t *payload, size_t length, int compress,
                      const char *context_name);

/// Only the seal and open of `payload` (the XChaCha20-Poly1305 part of the floor).
long floor_seal_open(floor_context *context, const uint8_t *payload, size_t length);

/// The file driver's floor: read the whole file at `path` into `buffer` (open, read, close).
/// Returns the bytes read, or -1.
long floor_file_read(const char *path, uint8_t *buffer, size_t capacity);

/// The file driver's floor for a write: the bytes into a temporary file beside `path`, then
/// (when `sync`) fsync it, rename it over `path`, and (when `sync`) fsync the directory
/// `directory`. Returns 0, or -1.
int floor_file_write(const char *directory, const char *path, const uint8_t *bytes, size_t length, int sync);

#endif
