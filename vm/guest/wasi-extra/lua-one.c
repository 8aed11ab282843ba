/* Lua's core and standard libraries as one translation unit.
 *
 * lua-src compiles each of Lua's files on its own, so the interpreter's every use of a table,
 * string or stack helper is a call into another file. In wasm each call also saves and reloads
 * wasmtime's fuel counter, so calls cost more than natively. Compiled as one unit, the internal
 * functions are static (only the C API, lua_*, luaL_* and luaopen_*, stays exported) and the
 * compiler inlines across files: ~3 % less fuel for a token Transfer, ~5 % less CPU.
 *
 * zigcc.sh compiles this file in place of lvm.c and Lua's other files as empty units. */
#include "lprefix.h"

#define LUA_CORE
#define LUA_LIB
#define ltable_c
#define lvm_c
#include "luaconf.h"

#undef LUAI_FUNC
#undef LUAI_DDEC
#undef LUAI_DDEF
#define LUAI_FUNC static
#define LUAI_DDEC(def) /* empty */
#define LUAI_DDEF static

/* The core, in dependency order. */
#include "lzio.c"
#include "lctype.c"
#include "lopcodes.c"
#include "lmem.c"
#include "lundump.c"
#include "ldump.c"
#include "lstate.c"
#include "lgc.c"
#include "llex.c"
#include "lcode.c"
#include "lparser.c"
#include "ldebug.c"
#include "lfunc.c"
#include "lobject.c"
#include "ltm.c"
#include "lstring.c"
#include "ltable.c"
#include "ldo.c"
#include "lvm.c"
#include "lapi.c"

/* The auxiliary and standard libraries. */
#include "lauxlib.c"
#include "lbaselib.c"
#include "lcorolib.c"
#include "ldblib.c"
#include "liolib.c"
#include "lmathlib.c"
#include "loadlib.c"
#include "loslib.c"
#include "lstrlib.c"
#include <stdint.h>
/* table.sort's pivot (wasi: arc4random, which the host answers deterministically). wasi-libc
 * declares it only without _XOPEN_SOURCE, and lprefix.h, included first here, sets that. */
uint32_t arc4random(void);
#include "ltablib.c"
#include "lutf8lib.c"
#include "linit.c"
