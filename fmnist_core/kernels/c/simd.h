/* The vector helpers every kernel shares: 8 floats (or 8 int32) in one 256-bit value, by GCC/Clang vector
 * extensions (AVX2 where -march=native has it, plain code otherwise). Loads and stores go through memcpy: no
 * alignment is assumed, and the compiler turns them into single unaligned vector moves. */
#ifndef FMNIST_SIMD_H
#define FMNIST_SIMD_H

#include <stdint.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#define INLINE static inline __attribute__((always_inline))

INLINE v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
INLINE void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }
INLINE v8i load8i(const int32_t *p) { v8i v; memcpy(&v, p, sizeof v); return v; }
INLINE void store8i(int32_t *p, v8i v) { memcpy(p, &v, sizeof v); }
INLINE v8f splat8(float f) { return (v8f){f, f, f, f, f, f, f, f}; }
INLINE v8i splat8i(int32_t i) { return (v8i){i, i, i, i, i, i, i, i}; }
/* mask ? a : b lane by lane (GCC's C has no vector ?:); mask lanes are all ones or all zeros */
INLINE v8f select8(v8i mask, v8f a, v8f b) { return (v8f)(((v8i)a & mask) | ((v8i)b & ~mask)); }
INLINE v8i select8i(v8i mask, v8i a, v8i b) { return (a & mask) | (b & ~mask); }


/* 16 floats (or 16 int32) in one 512-bit value where -march=native gives AVX-512: twice the work per
 * instruction and 32 registers. Kernels whose channel count allows it take these; FMNIST_NO_AVX512 builds the
 * 8-wide code that other CPUs run (the tests build it here to compare). */
#if defined(__AVX512F__) && !defined(FMNIST_NO_AVX512)
#define FMNIST_WIDE 1
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
INLINE v16f load16(const float *p) { v16f v; memcpy(&v, p, sizeof v); return v; }
INLINE void store16(float *p, v16f v) { memcpy(p, &v, sizeof v); }
INLINE v16i load16i(const int32_t *p) { v16i v; memcpy(&v, p, sizeof v); return v; }
INLINE void store16i(int32_t *p, v16i v) { memcpy(p, &v, sizeof v); }
INLINE v16f splat16(float f) { return (v16f){f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f}; }
INLINE v16i splat16i(int32_t i) { return (v16i){i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i}; }
INLINE v16f select16(v16i mask, v16f a, v16f b) { return (v16f)(((v16i)a & mask) | ((v16i)b & ~mask)); }
INLINE v16i select16i(v16i mask, v16i a, v16i b) { return (a & mask) | (b & ~mask); }
#endif

/* Width-generic names, for code written once for 8 and 16 lanes: where it is used, with LANES defined as 8 (or
 * 16), VF is v8f (or v16f), LD load8, SPLI splat8i, and so on. */
#define SIMD_CAT3_(a, b, c) a##b##c
#define SIMD_CAT3(a, b, c) SIMD_CAT3_(a, b, c)
#define VF SIMD_CAT3(v, LANES, f)
#define VI SIMD_CAT3(v, LANES, i)
#define LD SIMD_CAT3(load, LANES, )
#define ST SIMD_CAT3(store, LANES, )
#define LDI SIMD_CAT3(load, LANES, i)
#define STI SIMD_CAT3(store, LANES, i)
#define SPL SIMD_CAT3(splat, LANES, )
#define SPLI SIMD_CAT3(splat, LANES, i)
#define SEL SIMD_CAT3(select, LANES, )
#define SELI SIMD_CAT3(select, LANES, i)

#endif
