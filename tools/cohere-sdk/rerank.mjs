// The official cohere-ai SDK's v2 rerank call, pointed at COHERE_BASE_URL; prints the SDK's parsed results.
// Run by data/teacher's TestCohereSDKRerankIsServedByTheTestHandler (npm ci installs the SDK).
import { CohereClientV2 } from "cohere-ai";

const client = new CohereClientV2({ token: "sdk-test-key", environment: process.env.COHERE_BASE_URL });
const documents = JSON.parse(process.argv[2]);
const response = await client.rerank(
  { model: "rerank-v3.5", query: "what was revenue", documents, topN: documents.length, maxTokensPerDoc: 512 },
  { maxRetries: 0 },
);
console.log(JSON.stringify(response.results));
