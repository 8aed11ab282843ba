/*
 * The runtime half of setjmp/longjmp on WebAssembly exception handling.
 *
 * LLVM (with -mllvm -wasm-enable-sjlj) rewrites every setjmp call site into calls of
 * __wasm_setjmp / __wasm_setjmp_test and every longjmp into __wasm_longjmp, which throws a wasm
 * exception with the C longjmp tag. This file supplies those three functions; the jmp_buf only has
 * to remember which call frame armed it and under which label.
 */
#include <stdint.h>

struct aos_longjmp_arg {
    void *env;
    int value;
};

struct aos_jmp_buf {
    void *frame;            /* identifies the function invocation that called setjmp */
    uint32_t label;         /* which setjmp site inside that invocation */
    struct aos_longjmp_arg arg;
};

_Static_assert(sizeof(struct aos_jmp_buf) <= 8 * sizeof(unsigned long) + sizeof(unsigned long),
               "fits in musl's jmp_buf");

void __wasm_setjmp(void *env, uint32_t label, void *frame) {
    struct aos_jmp_buf *jb = env;
    jb->frame = frame;
    jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *frame) {
    struct aos_jmp_buf *jb = env;
    return jb->frame == frame ? jb->label : 0;
}

void __wasm_longjmp(void *env, int value) {
    struct aos_jmp_buf *jb = env;
    jb->arg.env = env;
    /* longjmp(env, 0) must look like a return of 1 from setjmp. */
    jb->arg.value = value == 0 ? 1 : value;
    __builtin_wasm_throw(1, &jb->arg);
}

/*
 * The exception tag longjmp throws with. clang >= 20 leaves it undefined in each object; without a
 * definition the linker would turn it into an import the host cannot satisfy.
 */
__asm__(".globl __c_longjmp\n"
        ".tagtype __c_longjmp i32\n"
        "__c_longjmp:\n");
