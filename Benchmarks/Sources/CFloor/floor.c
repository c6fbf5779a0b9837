#include "floor.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct floor_context {
    size_t capacity;
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    ZSTD_CCtx *compressor;
    ZSTD_DCtx *decompressor;
    uint8_t *compressed;
    uint8_t *envelope;
    char *text;
    uint8_t *decoded;
    uint8_t *opened;
    uint8_t *restored;
};

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static int8_t reverse[256];

static void build_reverse(void) {
    memset(reverse, -1, sizeof reverse);
    for (int i = 0; i < 64; i++) reverse[(uint8_t)alphabet[i]] = (int8_t)i;
}

static size_t encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
    }
    return o;
}

static long decode(const char *in, size_t n, uint8_t *out) {
    size_t o = 0, i = 0;
    if (n % 4 == 1) return -1;
    for (; i + 4 <= n; i += 4) {
        int a = reverse[(uint8_t)in[i]], b = reverse[(uint8_t)in[i + 1]];
        int c = reverse[(uint8_t)in[i + 2]], d = reverse[(uint8_t)in[i + 3]];
        if ((a | b | c | d) < 0) return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    size_t rest = n - i;
    if (rest >= 2) {
        int a = reverse[(uint8_t)in[i]], b = reverse[(uint8_t)in[i + 1]];
        int c = rest == 3 ? reverse[(uint8_t)in[i + 2]] : 0;
        if ((a | b | c) < 0) return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        out[o++] = (uint8_t)(v >> 16);
        if (rest == 3) out[o++] = (uint8_t)(v >> 8);
    }
    return (long)o;
}

floor_context *floor_create(size_t capacity) {
    if (sodium_init() < 0) return NULL;
    build_reverse();
    floor_context *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    size_t bound = ZSTD_compressBound(capacity) + 64;
    size_t sealed = bound + 37 + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    c->capacity = capacity;
    randombytes_buf(c->key, sizeof c->key);
    c->compressor = ZSTD_createCCtx();
    c->decompressor = ZSTD_createDCtx();
    c->compressed = malloc(bound);
    c->envelope = malloc(sealed);
    c->text = malloc(sealed * 4 / 3 + 8);
    c->decoded = malloc(sealed);
    c->opened = malloc(bound);
    c->restored = malloc(capacity + 64);
    return c;
}

void floor_destroy(floor_context *c) {
    if (!c) return;
    sodium_memzero(c->key, sizeof c->key);
    ZSTD_freeCCtx(c->compressor);
    ZSTD_freeDCtx(c->decompressor);
    free(c->compressed);
    free(c->envelope);
    free(c->text);
    free(c->decoded);
    free(c->opened);
    free(c->restored);
    free(c);
}

/// Seals `n` bytes of `in` into `c->envelope` (header, nonce, ciphertext and tag); returns its length.
static size_t seal(floor_context *c, const uint8_t *in, size_t n, const char *name) {
    uint8_t *e = c->envelope;
    e[0] = 1;
    memset(e + 1, 0, 12);
    e[4] = 1;  // key id 1, no expiry
    randombytes_buf(e + 13, 24);
    size_t name_length = strlen(name);
    uint8_t ad[37 + 256];
    memcpy(ad, e, 37);
    memcpy(ad + 37, name, name_length);
    unsigned long long out = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(e + 37, &out, in, n, ad, 37 + name_length, NULL, e + 13, c->key);
    return 37 + (size_t)out;
}

/// Opens `n` bytes of `in` into `c->opened`; returns the plaintext length or -1.
static long open_envelope(floor_context *c, const uint8_t *in, size_t n, const char *name) {
    if (n < 37 + crypto_aead_xchacha20poly1305_ietf_ABYTES || in[0] != 1) return -1;
    size_t name_length = strlen(name);
    uint8_t ad[37 + 256];
    memcpy(ad, in, 37);
    memcpy(ad + 37, name, name_length);
    unsigned long long out = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(c->opened, &out, NULL, in + 37, n - 37, ad, 37 + name_length,
                                                   in + 13, c->key) != 0)
        return -1;
    return (long)out;
}

long floor_round_trip(floor_context *c, const uint8_t *payload, size_t length, int compress, const char *name) {
    if (length > c->capacity || strlen(name) > 256) return -1;
    const uint8_t *plain = payload;
    size_t plain_length = length;
    if (compress) {
        size_t n = ZSTD_compressCCtx(c->compressor, c->compressed, ZSTD_compressBound(length), payload, length, 1);
        if (ZSTD_isError(n)) return -1;
        plain = c->compressed;
        plain_length = n;
    }
    size_t sealed = seal(c, plain, plain_length, name);
    size_t text_length = encode(c->envelope, sealed, c->text);
    long decoded = decode(c->text, text_length, c->decoded);
    if (decoded < 0) return -1;
    long opened = open_envelope(c, c->decoded, (size_t)decoded, name);
    if (opened < 0) return -1;
    const uint8_t *result = c->opened;
    size_t result_length = (size_t)opened;
    if (compress) {
        size_t n = ZSTD_decompressDCtx(c->decompressor, c->restored, c->capacity + 64, c->opened, (size_t)opened);
        if (ZSTD_isError(n)) return -1;
        result = c->restored;
        result_length = n;
    }
    if (result_length != length || memcmp(result, payload, length) != 0) return -1;
    return (long)text_length;
}

long floor_seal_open(floor_context *c, const uint8_t *payload, size_t length) {
    if (length > c->capacity) return -1;
    size_t sealed = seal(c, payload, length, "session");
    return open_envelope(c, c->envelope, sealed, "session");
}

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

long floor_file_read(const char *path, uint8_t *buffer, size_t capacity) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t total = 0;
    while (total < capacity) {
        ssize_t n = read(fd, buffer + total, capacity - total);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0) break;
        total += (size_t)n;
    }
    close(fd);
    return (long)total;
}

int floor_file_write(const char *directory, const char *path, const uint8_t *bytes, size_t length, int sync) {
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp", path) >= (int)sizeof temporary) return -1;
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t written = 0;
    while (written < length) {
        ssize_t n = write(fd, bytes + written, length - written);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        written += (size_t)n;
    }
    if (sync && fsync(fd) != 0) {
        close(fd);
        return -1;
    }
    if (close(fd) != 0 || rename(temporary, path) != 0) return -1;
    if (sync) {
        int dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) return -1;
        int failed = fsync(dir);
        close(dir);
        if (failed) return -1;
    }
    return 0;
}
