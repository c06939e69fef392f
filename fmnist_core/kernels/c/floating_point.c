/* Denormal floats flushed to zero, in the calling thread and in every thread of the OpenMP team PyTorch also uses
 * (the same libgomp), or put back. Adam's second moments of gradients near zero underflow into denormals, and an
 * operation on a denormal takes many times as long as on a normal float (figures: BENCHMARKS.md, #26). Flushing changes only numbers below 1.2e-38, which Adam's
 * epsilon (1e-8) already swamps. A thread the team starts later copies the bits of the thread that starts it.
 * Built and loaded by kernels/build.py. */

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
/* MXCSR: flush-to-zero (results) and denormals-are-zero (inputs) */
#define FLUSH_BITS 0x8040u
static unsigned long read_bits(void) { return _mm_getcsr(); }
static void write_bits(unsigned long bits) { _mm_setcsr((unsigned)bits); }
#elif defined(__aarch64__)
/* FPCR.FZ: flush-to-zero, inputs and results */
#define FLUSH_BITS (1ul << 24)
static unsigned long read_bits(void) {
    unsigned long bits;
    __asm__ volatile("mrs %0, fpcr" : "=r"(bits));
    return bits;
}
static void write_bits(unsigned long bits) { __asm__ volatile("msr fpcr, %0" : : "r"(bits)); }
#endif

/* Set (on = 1) or clear (on = 0) flushing in this thread and a team of `threads`; returns whether this thread
 * flushed before, or -1 where this CPU's bits are not known here (nothing changed). */
int denormals_flushed(int on, int threads) {
#ifdef FLUSH_BITS
    const int before = (read_bits() & FLUSH_BITS) == FLUSH_BITS;
    if (threads < 1) threads = 1;
#pragma omp parallel num_threads(threads)
    {
        const unsigned long bits = read_bits();
        write_bits(on ? bits | FLUSH_BITS : bits & ~FLUSH_BITS);
    }
    return before;
#else
    (void)on;
    (void)threads;
    return -1;
#endif
}
