// AO's own JavaScript client, unchanged, against a running `aos node`:
//
//   node aoconnect.mjs http://127.0.0.1:PORT [EMSCRIPTEN_MODULE_ID]
//
// A freshly generated Arweave (RSA) key signs everything. With the node's URLs in `connect`,
// aoconnect's spawn, message, result, results, dryrun, monitor and unmonitor must work as they do
// against AO's own units. One JSON line per step on stdout; the last is {"ok":true}. Any mismatch
// exits 1 with the reason on stderr. Given the id of an emscripten module item on the node (added
// with `aos module add`), aoconnect also spawns on it and evaluates there.
import Arweave from "arweave";
import { connect, createDataItemSigner } from "@permaweb/aoconnect";

const base = process.argv[2];
const emscriptenModule = process.argv[3];
if (!base) {
  console.error("usage: node aoconnect.mjs NODE_URL");
  process.exit(2);
}

function check(condition, what, detail) {
  if (!condition) {
    console.error(`aoconnect interop: ${what}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
}
const step = (name, detail = {}) => console.log(JSON.stringify({ step: name, ...detail }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tag = (name, value) => ({ name, value });

const info = await (await fetch(`${base}/`)).json();
check(info.address && info.default_module, "node info", info);

const arweave = Arweave.init({});
const jwk = await arweave.wallets.generate();
const me = await arweave.wallets.jwkToAddress(jwk);
const signer = createDataItemSigner(jwk);
const ao = connect({
  MODE: "legacy",
  MU_URL: `${base}/mu`,
  CU_URL: `${base}/cu`,
  GATEWAY_URL: base,
  noLog: true,
});
step("key", { address: me });

// spawn: aoconnect first looks the module up on the "gateway" (the node's /graphql).
const processId = await ao.spawn({
  module: info.default_module,
  scheduler: info.address,
  signer,
  tags: [tag("Name", "interop"), tag("Cron-Interval", "1-second"), tag("Cron-Tag-Action", "Cron")],
});
check(/^[A-Za-z0-9_-]{43}$/.test(processId), "spawn returns a process id", processId);
step("spawn", { process: processId });

// message (Eval) + result: load handlers.
const handlers = `
Pings = Pings or 0
Ticks = Ticks or 0
Handlers.add("Ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(msg)
  Pings = Pings + 1
  print("pinged " .. Pings .. " color " .. tostring(msg.Color))
  msg.reply({ Data = "Pong:" .. msg.Data })
end)
Handlers.add("Cron", Handlers.utils.hasMatchingTag("Action", "Cron"), function() Ticks = Ticks + 1 end)
return "handlers loaded"`;
const evalId = await ao.message({ process: processId, signer, tags: [tag("Action", "Eval")], data: handlers });
const loaded = await ao.result({ message: evalId, process: processId });
check(!loaded.Error, "the Eval succeeds", loaded);
check(loaded.Output?.data === "handlers loaded", "the Eval's Output", loaded.Output);
step("eval", { message: evalId });

// message with tags and data + result: Output and the reply in Messages.
const pingId = await ao.message({
  process: processId,
  signer,
  tags: [tag("Action", "Ping"), tag("Color", "blue")],
  data: "hello",
});
const pinged = await ao.result({ message: pingId, process: processId });
check(pinged.Output?.data === "pinged 1 color blue", "the Ping's Output", pinged.Output);
check(pinged.Messages?.length === 1, "one reply", pinged.Messages);
const reply = pinged.Messages[0];
check(reply.Target === me && reply.Data === "Pong:hello", "the reply goes back to the sender", reply);
check(reply.Tags.some((t) => t.name === "X-Reference"), "the reply references the Ping", reply.Tags);
step("message", { message: pingId, reply: reply.Data });

// results: the spawn, the Eval and the Ping, in both orders.
const page = await ao.results({ process: processId, sort: "ASC", limit: 25 });
check(page.edges.length === 3, "three results", page);
check(page.edges[2].node.Output.data === "pinged 1 color blue", "results in slot order", page.edges[2]);
const newest = await ao.results({ process: processId, sort: "DESC", limit: 1 });
check(newest.edges.length === 1 && newest.edges[0].cursor === page.edges[2].cursor, "DESC, limit 1", newest);
const after = await ao.results({ process: processId, from: page.edges[0].cursor, sort: "ASC" });
check(after.edges.length === 2, "results after a cursor", after);
step("results", { count: page.edges.length });

// dryrun: evaluated against the current state, nothing kept.
for (let i = 0; i < 2; i++) {
  const dry = await ao.dryrun({ process: processId, tags: [tag("Action", "Ping")], data: "dry" });
  check(dry.Output?.data?.startsWith("pinged 2"), "a dry-run sees the state but keeps nothing", dry);
  check(dry.Messages?.[0]?.Data === "Pong:dry", "a dry-run's reply", dry.Messages);
}
step("dryrun");

// monitor: cron ticks run in real time; unmonitor stops them.
const monitorId = await ao.monitor({ process: processId, signer });
check(typeof monitorId === "string", "monitor returns the request id", monitorId);
let ticks = 0;
for (let i = 0; i < 40 && ticks < 2; i++) {
  await sleep(250);
  const read = await ao.dryrun({ process: processId, tags: [tag("Action", "Ticks?")] });
  const cron = await (await fetch(`${base}/cu/cron/${processId}`)).json();
  ticks = cron.edges.length;
  check(!read.Error, "reads while monitored", read);
}
check(ticks >= 2, "cron ticks ran while monitored", ticks);
const unmonitorId = await ao.unmonitor({ process: processId, signer });
check(typeof unmonitorId === "string", "unmonitor returns the request id", unmonitorId);
const counted = await ao.message({ process: processId, signer, tags: [tag("Action", "Eval")], data: "return Ticks" });
const tickCount = Number((await ao.result({ message: counted, process: processId })).Output.data);
check(tickCount >= 2, "the process counted its ticks", tickCount);
step("monitor", { ticks: tickCount });

// A module item: aoconnect's spawn checks its tags on the gateway, then the process runs there.
if (emscriptenModule) {
  const emcc = await ao.spawn({ module: emscriptenModule, scheduler: info.address, signer, tags: [tag("Name", "emcc")] });
  const evalEmcc = await ao.message({ process: emcc, signer, tags: [tag("Action", "Eval")], data: "6 * 7" });
  const answered = await ao.result({ message: evalEmcc, process: emcc });
  check(answered.Output?.data === "42", "an Eval on the emscripten module", answered);
  step("module", { process: emcc });
}

console.log(JSON.stringify({ ok: true }));
