#!/usr/bin/env bash
# A node serving HTTP and shells talking to it: what you do with a node in one terminal and
# `aos NAME --url …` in others, as one script.
#
#   examples/remote.sh                 # uses `aos` from PATH
#   AOS=target/release/aos examples/remote.sh
#
# Two users (two wallets) on one node: "ponger" loads examples/ping.lua, "pinger" pings it in a
# batch run, and the reply lands in pinger's Inbox.
set -euo pipefail
AOS=${AOS:-aos}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
node=
cleanup() {
  if [ -n "$node" ]; then kill -TERM "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the OS picks a free port and the node prints the URL it got. The log exists before
# the node starts: the background job opens it itself, maybe after the loop below first reads.
: >"$work/node.log"
"$AOS" node --data-dir "$work/node" --listen 127.0.0.1:0 >"$work/node.log" 2>&1 &
node=$!
url=
for _ in $(seq 300); do
  url=$(sed -n 's/.* listening on \(http[^ ]*\).*/\1/p' "$work/node.log")
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the node did not start:" >&2
  cat "$work/node.log" >&2
  exit 1
fi
echo "node: $url"

# Each user has their own data dir (wallet, history); the processes live on the node.
ponger() { "$AOS" ponger --url "$url" --data-dir "$work/ponger" "$@"; }
pinger() { "$AOS" pinger --url "$url" --data-dir "$work/pinger" "$@"; }

ponger --load "$here/ping.lua" --run 'return "loaded"' >/dev/null
ponger_id=$(ponger --run 'return ao.id')
echo "ponger: $ponger_id"

# Batch mode waits until the Ping and the Pong it set off have been delivered.
pinger --run "Send({ Target = \"$ponger_id\", Action = \"Ping\" })" >/dev/null
echo "pinger's Inbox: $(pinger --run 'return Inbox[#Inbox].Data')"
echo "ponger counted: $(ponger --run "return Pings[\"$(pinger --run 'return ao.id')\"]")"
