// The chat's KV cache kept on the GPU between decode steps (chat-decoder.ts,
// the device form of the decode graph): on WebGPU (SwiftShader standing in for
// a GPU) two questions over one prefix cache — the second after the cache grew
// — give the logits the CPU's host-buffer decoder gives at every run, while the
// cache crosses from host buffers once per question instead of at every step.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODE_DEVICE_GRAPH_FILE, DECODE_GRAPH_FILE } from '../../../../main/model/chat/chat-decoder';
import { convertedGqaTinyModel } from '../../../support/gqa-tiny-model';
import { REPO_ROOT } from '../../../support/paths';
import { haveSwiftShader, swiftShaderEnv } from '../../../support/swiftshader';

const TSX = join(REPO_ROOT, 'node_modules/.bin/tsx');
const CHILD = join(REPO_ROOT, 'test', 'support', 'decode-device-child.ts');

interface ChildReport {
  executionProvider: string;
  fallbackReason: string | null;
  cacheOnDevice: boolean;
  layerSessionsExclusive: boolean;
  traffic: { runs: number; hostFedRuns: number; hostFedBytes: number };
  logits: number[][];
  error?: string;
}

function runDecoder(
  modelDir: string,
  provider: 'cpu' | 'webgpu',
  env: NodeJS.ProcessEnv,
): Promise<ChildReport> {
  return new Promise((done, fail) =>
    execFile(
      TSX,
      [CHILD, modelDir, provider],
      { env, timeout: 240_000, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        try {
          const report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildReport;
          if (report.error) fail(new Error(report.error));
          else done(report);
        } catch {
          fail(new Error(`decode child failed: ${error?.message}\n${stderr.slice(-2000)}`));
        }
      },
    ),
  );
}

describe.skipIf(!haveSwiftShader)(
  `chat KV cache on the GPU${haveSwiftShader ? '' : ' (skipped: no SwiftShader Vulkan driver, install chromium)'}`,
  () => {
    const scratch = mkdtempSync(join(tmpdir(), 'g2-decode-device-'));
    const modelDir = join(scratch, 'model');

    beforeAll(async () => {
      // Grouped-query attention like the real model (2 query heads per KV head).
      await convertedGqaTinyModel(scratch, 5);
    }, 120_000);
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it('gives the host-buffer logits at every step and uploads the cache once per question', async () => {
      const cpu = await runDecoder(modelDir, 'cpu', process.env);
      const gpu = await runDecoder(modelDir, 'webgpu', swiftShaderEnv());

      // The CPU runs the plain graph and feeds its host buffers at every run.
      expect(cpu.executionProvider).toBe('cpu');
      expect(cpu.cacheOnDevice).toBe(false);
      expect(cpu.traffic.hostFedRuns).toBe(cpu.traffic.runs);
      // WebGPU runs the device form, and the cache goes up once for each of the two questions.
      expect(gpu.executionProvider, gpu.fallbackReason ?? '').toBe('webgpu');
      expect(gpu.cacheOnDevice).toBe(true);
      // One LLM layer session on the device at a time (each holds its own copy of the layers).
      expect(gpu.layerSessionsExclusive).toBe(true);
      expect(gpu.traffic.runs).toBe(9); // 2 question blocks, 4 + 3 steps
      expect(gpu.traffic.hostFedRuns).toBe(2);
      expect(gpu.traffic.hostFedBytes).toBeLessThan(cpu.traffic.hostFedBytes / 4);
      expect(readdirSync(modelDir)).toEqual(
        expect.arrayContaining([DECODE_GRAPH_FILE, DECODE_DEVICE_GRAPH_FILE]),
      );

      // Same logits at every run: the question blocks, every step, after the truncation and the growth.
      expect(gpu.logits).toHaveLength(cpu.logits.length);
      let worst = 0;
      let span = 0;
      cpu.logits.forEach((row, r) =>
        row.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(v - gpu.logits[r][j]));
          span = Math.max(span, Math.abs(v));
        }),
      );
      expect(span).toBeGreaterThan(0.1); // the logits are not trivially zero
      expect(worst).toBeLessThan(1e-4 * Math.max(1, span));
    }, 600_000);
  },
);
