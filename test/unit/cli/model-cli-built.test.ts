// The BUILT command (`npm run build`, then bin/g2studio.js) verifies the golden
// set's chat path too: the bundle must carry the chat verifier (it once loaded it
// by a runtime path the bundle did not have and reported the chat tensors as
// skipped while passing). A tensor that is not compared fails the run.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/paths';
import type { GoldenReportEntry } from '../../../main/model/golden/golden-types';
import { readGoldenManifest } from '../../../main/model/golden/verify-golden';
import { SHARED_DIR } from '../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const BIN = join(REPO_ROOT, 'bin', 'g2studio.js');
const work = fs.mkdtempSync(join(os.tmpdir(), 'g2-built-cli-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Verdict {
  pass: boolean;
  compared: number;
  failed: number;
  entries: GoldenReportEntry[];
}

/** The report: the first JSON document on stdout (a failing run adds an `{"error": …}` one after it). */
function firstJson(stdout: string): Verdict {
  const end = stdout.indexOf('\n}\n');
  return JSON.parse(end < 0 ? stdout : stdout.slice(0, end + 2)) as Verdict;
}

async function verifyGoldenBuilt(goldenDir: string): Promise<{ code: number; verdict: Verdict }> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run(process.execPath, [BIN, 'model', 'verify-golden', goldenDir, '--json'], {
      maxBuffer: 16 * 2 ** 20,
      env: { ...process.env, TMPDIR: work },
    });
    return { code: 0, verdict: firstJson(stdout) };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    if (!failure.stdout)
      throw new Error(`g2studio failed without a report: ${failure.stderr ?? ''}`, { cause: error });
    return { code: failure.code ?? -1, verdict: firstJson(failure.stdout) };
  }
}

describe('built g2studio model verify-golden', () => {
  it('compares every chat tensor of the golden set (none skipped) and passes', async () => {
    expect(fs.existsSync(join(REPO_ROOT, 'out', 'main', 'cli.js')), 'run `npm run build` first').toBe(true);
    const { code, verdict } = await verifyGoldenBuilt(GOLDEN);
    const chat = Object.keys(readGoldenManifest(GOLDEN).tensors).filter((n) => n.startsWith('chat.'));
    expect(chat.length).toBeGreaterThan(10);
    const chatEntries = verdict.entries.filter((e) => e.name.startsWith('chat.'));
    expect(chatEntries.map((e) => e.name).sort()).toEqual(chat.sort());
    expect(chatEntries.filter((e) => e.skipped).map((e) => `${e.name}: ${e.skipped}`)).toEqual([]);
    expect(chatEntries.filter((e) => !e.pass).map((e) => e.name)).toEqual([]);
    expect(verdict.entries.every((e) => !e.skipped)).toBe(true);
    expect(verdict.compared).toBe(verdict.entries.length);
    expect(verdict.pass).toBe(true);
    expect(code).toBe(0);
  });

  it('fails (exit 1, pass false) when a listed tensor is not compared', async () => {
    // A golden set listing a chat tensor but no chat inputs: nothing can produce it.
    const manifest = readGoldenManifest(GOLDEN);
    const partial = fs.mkdtempSync(join(work, 'no-chat-'));
    for (const entry of ['checkpoint', 'inputs', 'outputs'])
      fs.symlinkSync(join(GOLDEN, entry), join(partial, entry));
    const { chat: _chat, recon: _recon, ...rest } = manifest;
    const tensors = { 'chat.system_ids': manifest.tensors['chat.system_ids'] };
    fs.writeFileSync(join(partial, 'manifest.json'), JSON.stringify({ ...rest, tensors }));
    const { code, verdict } = await verifyGoldenBuilt(partial);
    expect(verdict.entries).toHaveLength(1);
    expect(verdict.entries[0].skipped).toBeTruthy();
    expect(verdict.entries[0].pass).toBe(false);
    expect(verdict.pass).toBe(false);
    expect(code).toBe(1);
  });
});
