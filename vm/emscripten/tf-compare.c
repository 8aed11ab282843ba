/* wasm64 only. emscripten 3.1.6's compiler-rt returns `long` (64-bit on wasm64) from the binary128
 * comparisons (__eqtf2, …), while clang calls them as returning `int`; the linker turns every such
 * call into a trap, and musl's printf compares long doubles. These definitions, with the `int`
 * result clang expects, keep compiler-rt's out of the link. Semantics as compiler-rt's: `le`, `eq`,
 * `lt`, `ne` answer 1 when unordered, `ge`, `gt` answer -1. */
#if defined(__wasm64__)
#include <stdint.h>
#include <string.h>

typedef struct { uint64_t lo, hi; } f128;

static f128 bits(long double x) {
  f128 r;
  memcpy(&r, &x, sizeof r);
  return r;
}

#define SIGN (UINT64_C(1) << 63)

static int is_nan(f128 a) {
  uint64_t exponent = (a.hi >> 48) & 0x7fff;
  return exponent == 0x7fff && (((a.hi & ((UINT64_C(1) << 48) - 1)) | a.lo) != 0);
}

/* -1, 0, 1, or 2 when unordered (a NaN). */
static int compare(long double x, long double y) {
  f128 a = bits(x), b = bits(y);
  if (is_nan(a) || is_nan(b)) return 2;
  uint64_t ah = a.hi & ~SIGN, bh = b.hi & ~SIGN;
  if (!(ah | a.lo | bh | b.lo)) return 0; /* +0 == -0 */
  int as = (int)(a.hi >> 63), bs = (int)(b.hi >> 63);
  if (as != bs) return as ? -1 : 1;
  int magnitude = (ah < bh || (ah == bh && a.lo < b.lo)) ? -1 : (ah == bh && a.lo == b.lo) ? 0 : 1;
  return as ? -magnitude : magnitude;
}

int __letf2(long double a, long double b) { int c = compare(a, b); return c == 2 ? 1 : c; }
int __getf2(long double a, long double b) { int c = compare(a, b); return c == 2 ? -1 : c; }
int __unordtf2(long double a, long double b) { return compare(a, b) == 2; }
int __eqtf2(long double a, long double b) { return __letf2(a, b); }
int __lttf2(long double a, long double b) { return __letf2(a, b); }
int __netf2(long double a, long double b) { return __letf2(a, b); }
int __gttf2(long double a, long double b) { return __getf2(a, b); }
#endif
