#!/usr/bin/env bash
# Used by scripts/build-module as CC for wasm32-wasip1 (AOS_ZIG = zig from PyPI ziglang).
# cc-rs drives this as a clang: map its target name to zig's and turn on wasm exception handling.
args=()
for a in "$@"; do
  case "$a" in
    --target=wasm32-wasip1|--target=wasm32-wasi) args+=(-target wasm32-wasi) ;;
    *) args+=("$a") ;;
  esac
done
exec "$AOS_ZIG" cc "${args[@]}" -mexception-handling
