// Child process of the real-2b benchmark: one chat probe in a fresh process, so
// that its peak RSS (read by the parent from /proc) is the question's alone.
//   node out/main/chat-probe-child.js <request.json> <result.json> <logits.f32>
import { readFileSync, writeFileSync } from 'node:fs';
import { probeChat, type ChatProbeRequest } from './chat-probe';

async function main(): Promise<void> {
  const [requestPath, resultPath, logitsPath] = process.argv.slice(2);
  const request = JSON.parse(readFileSync(requestPath, 'utf8')) as ChatProbeRequest;
  const { logits, ...result } = await probeChat(request);
  writeFileSync(logitsPath, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  writeFileSync(resultPath, JSON.stringify(result));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
