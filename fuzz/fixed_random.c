/*
 * getrandom(2) that hands out a fixed stream, preloaded into the fuzz targets
 * by `.ci/fuzz short` only. The standard library seeds each HashMap's hasher
 * from getrandom, and hashing decides how many probes a lookup takes, in code
 * that is instrumented for coverage (the regex engine's state cache, a parsed
 * query's parameters): with random keys, coverage and so the inputs libFuzzer
 * keeps would differ from run to run. Nothing here is secret: the targets
 * generate no keys or identifiers.
 */
#include <stddef.h>
#include <sys/types.h>

ssize_t getrandom(void *buffer, size_t length, unsigned int flags) {
    static unsigned long long state = 0x6b7275696d656c00ULL;
    unsigned char *out = buffer;
    (void)flags;
    for (size_t i = 0; i < length; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (unsigned char)(state >> 56);
    }
    return (ssize_t)length;
}
