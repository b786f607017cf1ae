// Child process for chat-decode-device.test.ts: runs the chat's decode graph of
// a converted model on the provider named in argv (one process per provider:
// the Vulkan loader reads its environment once), over a fixed pseudo-random
// prefix cache, for two questions on the same cache (the second after the cache
// grew), and prints one JSON line: every run's logits, where the graph ran,
// whether the cache stayed on the device, and what crossed from host buffers.
import * as ort from 'onnxruntime-node';
import { ChatDecoder } from '../../main/model/chat/chat-decoder';
import { LlmRunner, type KvCache } from '../../main/model/runtime/llm-runner';
import { readModelManifest } from '../../main/model/runtime/model-manifest';
import { SharedWeightSessions } from '../../main/model/runtime/shared-weight-sessions';

async function main(): Promise<void> {
  const [modelDir, provider] = process.argv.slice(2) as [string, 'cpu' | 'webgpu'];
  const manifest = readModelManifest(modelDir);
  const { numKvHeads: Hk, headDim: hd, numLayers } = manifest.configs.text;
  const sessions = new SharedWeightSessions(provider === 'cpu');
  const decoder = await ChatDecoder.load(modelDir, manifest, provider, sessions);
  if (!decoder) throw new Error('no decode graph');

  // A prefix of 37 rows with values in [-1, 1) from a fixed linear congruential sequence.
  const T = 37;
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 30 - 1;
  const tensor = (): ort.Tensor =>
    new ort.Tensor('float32', Float32Array.from({ length: Hk * T * hd }, next), [1, Hk, T, hd]);
  const prefix: KvCache = {
    keys: Array.from({ length: numLayers }, tensor),
    values: Array.from({ length: numLayers }, tensor),
    length: T,
  };

  const logits: number[][] = [];
  const ask = async (
    cache: ReturnType<ChatDecoder['fromRunnerCache']>,
    question: number[],
    steps: number[],
  ) => {
    let position = T + 5; // the prefix's positions run ahead of its rows (images), as in a real chat
    logits.push(Array.from(await decoder.run(cache, question, position)));
    position += question.length;
    for (const token of steps) logits.push(Array.from(await decoder.run(cache, [token], position++)));
    decoder.truncate(cache, T);
    decoder.releaseDevice(cache);
  };
  let cache = decoder.fromRunnerCache(prefix, 12);
  await ask(cache, [11, 22, 33, 44, 55], [7, 8, 9, 10]);
  cache = decoder.grow(cache, cache.capacity + 20);
  await ask(cache, [66, 77, 88], [12, 13, 14]);
  const placement = decoder.placement;
  // The LLM's own layer sessions on this provider: one open at a time (device memory on a GPU).
  const runner = await LlmRunner.load(modelDir, manifest, provider, { lmHead: false });
  const layerSessionsExclusive = runner.layerSessions.exclusive;
  await runner.release();
  process.stdout.write(
    `${JSON.stringify({
      executionProvider: placement.executionProvider,
      fallbackReason: placement.fallbackReason ?? null,
      cacheOnDevice: decoder.cacheOnDevice,
      layerSessionsExclusive,
      traffic: decoder.traffic,
      logits,
    })}\n`,
  );
  await sessions.release();
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: String((error as Error).stack ?? error) })}\n`);
  process.exit(1);
});
