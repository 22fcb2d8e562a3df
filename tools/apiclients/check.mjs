// Calls ragnb's model API with the official SDKs and prints what they return as one JSON object, for
// pipeline/server's TestOfficialSDKs to compare with the models' own outputs.
//   node check.mjs BASE_URL
import { createRequire } from "node:module";
import OpenAI from "openai";

const require = createRequire(import.meta.url);
const { CohereClient, CohereClientV2 } = require("cohere-ai");

const base = process.argv[2];
const texts = ["net revenue rose", "the board approved a dividend", "supply chain risk"];
const out = {};

const openai = new OpenAI({ apiKey: "not-checked", baseURL: base + "/v1", maxRetries: 0 });
const vec = (r) => r.data.map((d) => Array.from(d.embedding));
let r = await openai.embeddings.create({ model: "any-name", input: texts }); // the SDK asks for base64
out.openai_default = vec(r);
out.openai_model = r.model;
out.openai_usage = r.usage;
r = await openai.embeddings.create({ model: "any-name", input: texts[0], encoding_format: "float" });
out.openai_float_one = vec(r);
r = await openai.embeddings.create({ model: "any-name", input: texts, dimensions: 16 });
out.openai_dim16 = vec(r);
try {
  await openai.embeddings.create({ model: "any-name", input: texts, encoding_format: "float", dimensions: -1 });
  out.openai_error = null;
} catch (e) {
  out.openai_error = { status: e.status, message: e.message };
}

const docs = ["dividend approved by the board", "revenue rose on net sales", "weather report"];
const query = "did the board approve a dividend";
const v1 = new CohereClient({ token: "not-checked", environment: base });
const rr = await v1.rerank({ model: "any-name", query, documents: docs, topN: 2, returnDocuments: true });
out.cohere_v1 = rr.results.map((x) => ({ index: x.index, score: x.relevanceScore, text: x.document?.text }));
const v2 = new CohereClientV2({ token: "not-checked", environment: base });
const rr2 = await v2.rerank({ model: "any-name", query, documents: docs });
out.cohere_v2 = rr2.results.map((x) => ({ index: x.index, score: x.relevanceScore }));

process.stdout.write(JSON.stringify(out));
