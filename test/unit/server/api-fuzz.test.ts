// Property-based fuzz of the API contract over the real web server: random
// operation names (real and invented) with random JSON inputs each end, within
// a time bound, in a result or a typed error of the enum, and the library
// stays intact (PRAGMA integrity_check). G2_FUZZ_RUNS raises the case count.
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationNames } from '../../../main/common/api';
import { isStudioErrorInfo } from '../../../main/common/errors';
import { createStudio, type Studio } from '../../../main/core/studio';
import { startWebServer, type WebServerHandle } from '../../../main/server/web-server';

const RUNS = Number(process.env.G2_FUZZ_RUNS ?? 150);
const CALL_TIMEOUT_MS = 5_000;

describe('API contract fuzz', () => {
  let dir: string;
  let studio: Studio;
  let server: WebServerHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2-fuzz-'));
    studio = await createStudio({ libraryPath: join(dir, 'library'), mode: 'web' });
    server = await startWebServer(studio, {
      port: 0,
      rendererDir: join(dir, 'no-renderer'),
      maxCallBytes: 64 * 1024,
    });
  });
  afterAll(async () => {
    await server?.close();
    await studio?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every random call with a result or a typed error, and the library stays intact', async () => {
    const name = fc.oneof(fc.constantFrom(...operationNames), fc.string({ maxLength: 20 }));
    const input = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        { sceneId: fc.string(), path: fc.string(), format: fc.string(), frames: fc.integer() },
        {
          requiredKeys: [],
        },
      ),
    );
    await fc.assert(
      fc.asyncProperty(name, input, async (operation, body) => {
        const response = await fetch(`http://127.0.0.1:${server.port}/api/call`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: operation, input: body }),
          signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        });
        const envelope = (await response.json()) as { ok: boolean; error?: unknown };
        if (envelope.ok) expect(response.status).toBe(200);
        else {
          expect(isStudioErrorInfo(envelope.error), JSON.stringify(envelope.error)).toBe(true);
          expect(response.status).toBeGreaterThanOrEqual(400);
        }
      }),
      { numRuns: RUNS },
    );
    expect(studio.library.integrityCheck()).toBe('ok');
  }, 120_000);
});
