#!/usr/bin/env bash
# The project's one test command: installs what the tests need, then runs every check CI runs.
#   ./ci.sh          everything
# Set AOS_SKIP_MODULE_CHECK=1 to skip rebuilding the wasm module from source (slowest step).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "tools"
scripts/setup-test-tools

if [ "${AOS_SKIP_MODULE_CHECK:-0}" != 1 ]; then
  step "module: rebuild vm/module/process.wasm from source and compare"
  scripts/build-module --check
  step "emscripten test modules: rebuild vm/module/emscripten{32,64}.wasm and compare"
  scripts/build-emscripten-module --check
fi

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked
