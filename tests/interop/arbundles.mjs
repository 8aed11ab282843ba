// Interop oracle: the reference JavaScript implementation of ANS-104 (the `arbundles` package)
// signs and verifies items so that the Rust side can be checked against it.
//
//   node arbundles.mjs sign SECRET_B64URL OUT_FILE   signs an ed25519 item, prints {id, owner, tags, data}
//   node arbundles.mjs sign-rsa JWK_FILE OUT_FILE    the same item signed by an Arweave RSA wallet
//   node arbundles.mjs verify IN_FILE                prints {valid, id, owner, tags, data}
import { readFileSync, writeFileSync } from "node:fs";
import { createData, DataItem, Curve25519, ArweaveSigner } from "arbundles";
import * as ed from "@noble/ed25519";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

// arbundles' ed25519 key class leaves key loading to subclasses.
class Ed25519Key extends Curve25519 {
  constructor(secret, publicKey) {
    super(b64url(secret), b64url(publicKey));
    this.secret = secret;
    this.pub = Buffer.from(publicKey);
  }
  get key() {
    return this.secret;
  }
  get publicKey() {
    return this.pub;
  }
}

function describe(item) {
  return {
    id: item.id,
    owner: item.owner,
    signature_type: item.signatureType,
    target: item.rawTarget.length ? item.target : null,
    anchor: item.rawAnchor.length ? item.rawAnchor.toString() : null,
    tags: item.tags,
    data: item.rawData.toString(),
  };
}

// One item for every signer, so that the Rust side compares the same fields whatever the scheme.
async function signSample(signer, out) {
  const item = createData("hello from arbundles", signer, {
    target: b64url(Buffer.alloc(32, 7)),
    anchor: "0123456789abcdef0123456789abcdef",
    tags: [
      { name: "Data-Protocol", value: "ao" },
      { name: "Action", value: "Eval" },
      { name: "Ünïcode", value: "välue ✓" },
    ],
  });
  await item.sign(signer);
  writeFileSync(out, item.getRaw());
  console.log(JSON.stringify(describe(item)));
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "sign") {
  const secret = Buffer.from(args[0], "base64url");
  await signSample(new Ed25519Key(secret, await ed.getPublicKey(secret)), args[1]);
} else if (cmd === "sign-rsa") {
  await signSample(new ArweaveSigner(JSON.parse(readFileSync(args[0], "utf8"))), args[1]);
} else if (cmd === "verify") {
  const raw = readFileSync(args[0]);
  const valid = await DataItem.verify(raw);
  console.log(JSON.stringify({ valid, ...describe(new DataItem(raw)) }));
} else {
  console.error("usage: arbundles.mjs sign SECRET OUT | sign-rsa JWK OUT | verify IN");
  process.exit(2);
}
