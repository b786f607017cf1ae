// End-to-end parity: convert the golden tiny checkpoint, run the official recon
// inputs through the runtime, compare every recon tensor of the manifest.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyGolden, readGoldenManifest } from '../../../../main/model/golden/verify-golden';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'golden-verify-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('verifyGolden on g2vlm-tiny-a', () => {
  it('passes every recon tensor of the manifest in fp32', async () => {
    const stages: string[] = [];
    const report = await verifyGolden(GOLDEN, { workDir: work, onProgress: (_p, s) => stages.push(s) });
    const manifest = readGoldenManifest(GOLDEN);
    const recon = Object.keys(manifest.tensors).filter((n) => n.startsWith('recon.'));
    const compared = report.entries.filter((e) => e.name.startsWith('recon.') && !e.skipped);
    // Every recon tensor is produced and compared, none skipped.
    expect(compared.map((e) => e.name).sort()).toEqual(recon.sort());
    const failures = compared.filter((e) => !e.pass).map((e) => `${e.name}: ${e.maxAbs}`);
    expect(failures).toEqual([]);
    expect(stages.some((s) => s.startsWith('recon: decoders'))).toBe(true);
    // The world points are well inside their tolerance, not just under it.
    const points = compared.find((e) => e.name === 'recon.points')!;
    expect(points.maxAbs).toBeLessThan(points.atol / 5);
  });

  it('works with a manifest listing fewer tensors and reports a tensor that does not match', async () => {
    const manifest = readGoldenManifest(GOLDEN);
    const partial = fs.mkdtempSync(join(work, 'partial-'));
    for (const entry of ['checkpoint', 'inputs', 'outputs'])
      fs.symlinkSync(join(GOLDEN, entry), join(partial, entry));
    const keep = ['recon.camera_poses', 'recon.text_ids'];
    const tensors = Object.fromEntries(keep.map((n) => [n, manifest.tensors[n]]));
    // A deliberately impossible tolerance on the poses must be reported as a failure.
    tensors['recon.camera_poses'] = {
      ...tensors['recon.camera_poses'],
      tolerance: { compare: 'allclose', atol: 0, rtol: 0 },
    };
    const { chat: _chat, ...rest } = manifest;
    fs.writeFileSync(join(partial, 'manifest.json'), JSON.stringify({ ...rest, tensors }));
    const report = await verifyGolden(partial, { workDir: join(work, 'partial-model') });
    expect(report.entries.map((e) => e.name).sort()).toEqual(keep.sort());
    expect(report.entries.find((e) => e.name === 'recon.text_ids')!.pass).toBe(true);
    const poses = report.entries.find((e) => e.name === 'recon.camera_poses')!;
    expect(poses.maxAbs).toBeGreaterThan(0);
    expect(poses.pass).toBe(false);
    expect(report.pass).toBe(false);
  });
});
