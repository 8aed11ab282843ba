/* Included into every Lua source of the wasm64 build (emcc -include). emscripten 3.1.6's LLVM 14
 * lowers setjmp on wasm64 with a 32-bit `malloc` call that the linker turns into a trap, so there
 * Lua's protected calls use emscripten's invoke ABI directly instead of setjmp/longjmp: a throw is
 * the `_emscripten_throw_longjmp` import, and `invoke_vjj` (the same import AO's wasm64 modules
 * have) catches it, restores the stack and calls `setThrew`. The wasm32 build keeps Lua's own
 * setjmp, lowered by emscripten as usual. */
#ifndef AOS_INVOKE_SJLJ_H
#define AOS_INVOKE_SJLJ_H

struct lua_State;
void aos_protected(void (*f)(struct lua_State *, void *), struct lua_State *L, void *ud);
__attribute__((import_module("env"), import_name("_emscripten_throw_longjmp"), noreturn))
void aos_throw(void);

/* Only luaD_rawrunprotected uses LUAI_TRY, with its locals `f` and `ud`. */
#define LUAI_THROW(L, c) aos_throw()
#define LUAI_TRY(L, c, a) aos_protected(f, L, ud)
#define luai_jmpbuf int

#endif
