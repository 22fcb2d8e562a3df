// Uploads folders to a Hub endpoint with the official JS client (@huggingface/hub), so that ragnb's test Hub
// (internal/testkit/hubtest) is checked against the protocol the real clients speak.
//
//   node upload.mjs HUB_URL TYPE ORG/NAME DIR
//
// The token comes from HF_TOKEN. Prints {"repoUrl", "commit"} as JSON.
import { createRepo, uploadFiles } from "@huggingface/hub";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const [hubUrl, type, name, dir] = process.argv.slice(2);
const accessToken = process.env.HF_TOKEN;
const repo = { type, name };

function walk(d) {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
  );
}

const { repoUrl } = await createRepo({ repo, accessToken, hubUrl, private: true });
const files = walk(dir).map((p) => ({
  path: relative(dir, p).split(sep).join("/"),
  content: new Blob([readFileSync(p)]),
}));
const out = await uploadFiles({ repo, accessToken, hubUrl, files, commitTitle: "upload with @huggingface/hub" });
console.log(JSON.stringify({ repoUrl, commit: out?.commit?.oid ?? null }));
