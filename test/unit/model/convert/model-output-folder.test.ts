// The converter's --out folder: a user's folder is never deleted (a
// manifest.json alone does not make it a model), a model the converter wrote
// is replaced whole, and the temporaries of a killed conversion are cleaned
// (or the old model put back) at the next conversion.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import {
  CONVERTED_MODEL_MARKER,
  isConvertedModelFolder,
  recoverStaleOutputs,
} from '../../../../main/model/convert/output-folder';
import { readModelManifest } from '../../../../main/model/runtime/model-manifest';
import { SHARED_DIR } from '../../../support/shared-dir';

const CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'model-out-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('model convert --out', () => {
  it('refuses a user folder that merely holds a manifest.json, and deletes nothing', async () => {
    const mine = join(work, 'my-project');
    fs.mkdirSync(mine);
    fs.writeFileSync(join(mine, 'manifest.json'), '{"name":"my web app"}');
    fs.writeFileSync(join(mine, 'thesis.tex'), 'years of work');
    await expect(convertCheckpoint(CHECKPOINT, mine)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(fs.readdirSync(mine).sort()).toEqual(['manifest.json', 'thesis.tex']);
    expect(fs.readFileSync(join(mine, 'thesis.tex'), 'utf8')).toBe('years of work');
  });

  it('refuses an existing file as --out', async () => {
    const file = join(work, 'a-file');
    fs.writeFileSync(file, 'keep');
    await expect(convertCheckpoint(CHECKPOINT, file)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
  });

  it('marks what it writes and replaces its own model whole', async () => {
    const out = join(work, 'model');
    const first = await convertCheckpoint(CHECKPOINT, out);
    expect(isConvertedModelFolder(out)).toBe(true);
    fs.writeFileSync(join(out, 'stray.txt'), 'from the old model folder');
    const second = await convertCheckpoint(CHECKPOINT, out);
    expect(second.created).not.toBe(first.created);
    expect(readModelManifest(out).created).toBe(second.created);
    expect(fs.existsSync(join(out, 'stray.txt'))).toBe(false);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('.model.'))).toEqual([]);
  });

  it("removes a killed conversion's temporaries at the next conversion, not a running one's", async () => {
    const out = join(work, 'after-kill');
    const dead = deadPid();
    const stale = join(work, `.after-kill.converting-${dead}-0badf00d`);
    const live = join(work, `.other.converting-${process.pid}-0badf00d`);
    for (const dir of [stale, live]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(1024));
    }
    await convertCheckpoint(CHECKPOINT, out);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    fs.rmSync(live, { recursive: true });
  });

  it('puts the old model back when a kill fell between moving it aside and renaming the new one in', () => {
    const out = join(work, 'swap');
    const aside = join(work, `.swap.replaced-${deadPid()}-0badf00d`);
    fs.mkdirSync(aside);
    fs.writeFileSync(join(aside, CONVERTED_MODEL_MARKER), 'x');
    fs.writeFileSync(join(aside, 'manifest.json'), '{}');
    recoverStaleOutputs(out);
    expect(fs.existsSync(aside)).toBe(false);
    expect(fs.readdirSync(out).sort()).toEqual([CONVERTED_MODEL_MARKER, 'manifest.json'].sort());
  });
});
