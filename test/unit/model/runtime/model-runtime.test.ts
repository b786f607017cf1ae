// ORT session setup: telemetry off (nothing written under ~/.cache), CPU
// provider reported, one thread per physical core.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { physicalCores } from '../../../../main/model/runtime/session';
import { REPO_ROOT } from '../../../support/paths';

const ROOT = REPO_ROOT;

function runWithHome(script: string): { home: string; status: number | null; stderr: string } {
  const home = fs.mkdtempSync(join(os.tmpdir(), 'ort-home-'));
  const file = join(home, 'probe.ts');
  fs.writeFileSync(file, script);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.XDG_CACHE_HOME;
  delete env.ORT_DISABLE_TELEMETRY;
  // ORT's telemetry client stays quiet under CI=true; probe it as on a user's machine.
  delete env.CI;
  const res = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  // Only the first line of stderr: tsx stacks carry inline source maps vitest would try to parse.
  return {
    home,
    status: res.status,
    stderr: (res.stderr ?? '')
      .split('\n')
      .filter((l) => l.includes('Error') || l.includes('Cannot'))
      .slice(0, 3)
      .join(' | '),
  };
}

const graphScript = (importLine: string, create: string): string => `
${importLine}
import { GraphBuilder } from '${ROOT}/main/model/graph/graph-builder';
import { REPO_ROOT } from '../../../support/paths';
const g = new GraphBuilder('probe');
const x = g.input('x', 'float32', [2]);
g.output(g.op('Relu', [x]), 'y');
const bytes = g.toModelBytes(() => ({ location: '', offset: 0, length: 0 }));
(async () => {
  ${create}
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 2]), [2]) });
  if ((out.y.data as Float32Array)[1] !== 2) process.exit(3);
  console.log('ran on', provider);
})();
`;

describe('ONNX Runtime sessions', () => {
  it('write nothing under ~/.cache (telemetry disabled), while a raw ORT session does', () => {
    const ours = runWithHome(
      graphScript(
        `import { ort } from '${ROOT}/main/model/runtime/ort';\nimport { createSession } from '${ROOT}/main/model/runtime/session';`,
        `const { session, executionProvider: provider } = await createSession(bytes, 'cpu');`,
      ),
    );
    expect(ours.status, ours.stderr).toBe(0);
    expect(fs.existsSync(join(ours.home, '.cache'))).toBe(false);

    const raw = runWithHome(
      graphScript(
        `import * as ort from '${ROOT}/node_modules/onnxruntime-node/dist/index.js';`,
        `const session = await ort.InferenceSession.create(bytes); const provider = 'cpu';`,
      ),
    );
    expect(raw.status, raw.stderr).toBe(0);
    // The control: without the switch ORT 1.30 persists its telemetry state there.
    expect(fs.existsSync(join(raw.home, '.cache', 'Microsoft'))).toBe(true);
    fs.rmSync(ours.home, { recursive: true, force: true });
    fs.rmSync(raw.home, { recursive: true, force: true });
  });

  it('counts physical cores for the intra-op threads', () => {
    const cores = physicalCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(os.availableParallelism());
  });
});
