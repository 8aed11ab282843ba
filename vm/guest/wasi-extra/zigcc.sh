#!/usr/bin/env bash
# Used by scripts/build-module as CC for wasm32-wasip1 (AOS_ZIG = zig from PyPI ziglang).
# cc-rs drives this as a clang: map its target name to zig's and turn on wasm exception handling.
# Lua (lua-src's Lua 5.4.9) is compiled as one unit: lua-one.c in place of lvm.c, and Lua's other
# files as empty units (lua-one.c says why). Another Lua version compiles file by file as before.
here=$(cd "$(dirname "$0")" && pwd)
args=()
for a in "$@"; do
  case "$a" in
    --target=wasm32-wasip1|--target=wasm32-wasi) args+=(-target wasm32-wasi) ;;
    */lua-5.4.9/lvm.c) args+=("$here/lua-one.c") ;;
    */lua-5.4.9/*.c) args+=("$here/lua-none.c") ;;
    *) args+=("$a") ;;
  esac
done
exec "$AOS_ZIG" cc "${args[@]}" -mexception-handling
