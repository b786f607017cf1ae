// The web-mode bridge over a real studio core (real SQLite library in a temp
// folder): who may talk to it, and that every route carries the contract.

import { request } from 'node:http';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobInfo, SceneSummary, StudioEvent } from '../../../main/common/domain';
import { createStudio, type Studio } from '../../../main/core/studio';
import { startWebServer, type WebServerHandle } from '../../../main/server/web-server';
import { plyBytes, rgbCubes } from '../../e2e/fixtures';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http rather than fetch, so tests can send any Host/Origin header. */
function raw(
  server: WebServerHandle,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (response: RawResponse) => JSON.parse(response.body.toString('utf8'));

describe('web server', () => {
  let dir: string;
  let studio: Studio;
  let server: WebServerHandle;
  let auth: Record<string, string>;

  /** The HTTP status that refuses a WebSocket upgrade to this path, or 101 when it opens. */
  const wsStatus = (path: string) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(0));
    });

  const call = async (name: string, input: unknown) =>
    raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, input }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2-server-'));
    const rendererDir = join(dir, 'renderer');
    await mkdir(join(rendererDir, 'assets'), { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>G2 Studio</title>');
    await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'not for the browser');
    studio = await createStudio({ libraryPath: join(dir, 'library'), mode: 'web' });
    server = await startWebServer(studio, { port: 0, rendererDir, maxCallBytes: 64 * 1024 });
    auth = { Authorization: `Bearer ${server.token}` };
  });

  afterAll(async () => {
    await server?.close();
    await studio?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startWebServer(studio, { host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('0.0.0.0'),
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('is not reachable on the machine’s network addresses', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((net) => net && net.family === 'IPv4' && !net.internal);
    if (!external) return; // no network interface besides loopback on this machine
    const reached = await new Promise<boolean>((resolve) => {
      const req = request({ host: external.address, port: server.port, path: '/', timeout: 2000 }, () =>
        resolve(true),
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
    expect(reached).toBe(false);
  });

  it('answers 401 to every route without the session token', async () => {
    for (const [path, method] of [
      ['/', 'GET'],
      ['/assets/app.js', 'GET'],
      ['/api/call', 'POST'],
      ['/api/upload?name=a.ply', 'POST'],
      ['/blobs/scenes/x/points.f32', 'GET'],
    ]) {
      const response = await raw(server, path, { method, headers: { 'Content-Type': 'application/json' } });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(json(response)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    const wrong = await raw(server, '/api/call', {
      method: 'POST',
      headers: { Authorization: `Bearer ${'x'.repeat(43)}`, 'Content-Type': 'application/json' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(wrong.status).toBe(401);
  });

  it('turns the printed ?token= into an HttpOnly SameSite=Strict cookie and a clean URL', async () => {
    const first = await raw(server, `/?token=${server.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await raw(server, '/', { headers: { Cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<title>G2 Studio</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('accepts ?token= only on a page load (exchanged for the cookie), never on the API or blobs', async () => {
    const q = `token=${server.token}`;
    const api = await raw(server, `/api/call?${q}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(api.status).toBe(401);
    const blob = await raw(server, `/blobs/scenes/scn_x/points?${q}`);
    expect(blob.status).toBe(401);
    expect(await wsStatus(`/api/events?${q}`)).toBe(401);
    const page = await raw(server, `/index.html?${q}`);
    expect(page.status).toBe(303);
  });

  it('tells a person without the token where the link is, in HTML; scripts still get JSON', async () => {
    const page = await raw(server, '/', { headers: { Accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toContain('text/html');
    const text = page.body.toString();
    expect(text).toContain('npm start');
    expect(text).toContain('?token=');
    expect(text).not.toContain('"code"');
    const script = await raw(server, '/');
    expect(script.status).toBe(401);
    expect(json(script).error.code).toBe('unauthorized');
  });

  it('does not follow a symlink out of the renderer folder', async () => {
    const rendererDir = join(dir, 'renderer');
    await symlink(join(dir, 'secret.txt'), join(rendererDir, 'assets', 'linked.js'));
    await symlink(dir, join(rendererDir, 'up'));
    for (const path of ['/assets/linked.js', '/up/secret.txt']) {
      const response = await raw(server, path, { headers: auth });
      expect(response.status, path).toBe(404);
      expect(response.body.toString()).not.toContain('not for the browser');
    }
  });

  it('rejects requests addressed to another host name (DNS rebinding) or from another origin', async () => {
    const rebound = await raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, Host: `evil.example:${server.port}`, 'Content-Type': 'application/json' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(rebound.status).toBe(421);
    const crossSite = await raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(crossSite.status).toBe(403);
    const localhost = await raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, Host: `localhost:${server.port}`, 'Content-Type': 'application/json' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(localhost.status).toBe(200);
  });

  it('serves only files inside the renderer folder', async () => {
    const asset = await raw(server, '/assets/app.js', { headers: auth });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await raw(server, path, { headers: auth });
      expect(response.status, path).toBe(404);
      expect(response.body.toString()).not.toContain('not for the browser');
    }
  });

  it('maps contract errors to HTTP statuses with message and fix', async () => {
    const unknown = await call('scenes.explode', {});
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const invalid = await call('scenes.get', { sceneId: '../../etc/passwd' });
    expect(invalid.status).toBe(400);
    expect(json(invalid).error.code).toBe('invalid-input');
    expect(json(invalid).error.fix.length).toBeGreaterThan(0);
    const missing = await call('scenes.get', { sceneId: 'scn_nope' });
    expect(missing.status).toBe(404);
    const notJson = await raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/plain' },
      body: '{"name":"scenes.list","input":{}}',
    });
    expect(notJson.status).toBe(400);
    const huge = await raw(server, '/api/call', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'scenes.list', input: { pad: 'x'.repeat(100 * 1024) } }),
    });
    expect(huge.status).toBe(400);
    expect(json(huge).error.message).toContain('larger than the limit');
  });

  it('refuses the events WebSocket without the token', async () => {
    const wsUrl = `ws://127.0.0.1:${server.port}/api/events`;
    const refused = await new Promise<string>((resolve) => {
      const socket = new WebSocket(wsUrl);
      socket.on('open', () => resolve('open'));
      socket.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      socket.on('error', (error) => resolve(`error ${error.message}`));
    });
    expect(refused).toBe('http 401');
    const crossOrigin = await new Promise<string>((resolve) => {
      const socket = new WebSocket(wsUrl, { headers: auth, origin: 'https://evil.example' });
      socket.on('open', () => resolve('open'));
      socket.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      socket.on('error', (error) => resolve(`error ${error.message}`));
    });
    expect(crossOrigin).toBe('http 403');
  });

  it('cleans up an upload the browser abandons halfway', async () => {
    const uploads = studio.library.uploadsDir;
    const before = await readdir(uploads).catch(() => [] as string[]);
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: server.port,
        path: '/api/upload?name=half.mov',
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(1 << 20) },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(64 * 1024, 7), () =>
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200),
      );
    });
    // The partial file is removed, nothing importable is left behind, and the server still answers.
    await expect
      .poll(async () => (await readdir(uploads).catch(() => [] as string[])).length, { timeout: 5000 })
      .toBe(before.length);
    const list = await call('scenes.list', {});
    expect(list.status).toBe(200);
  });

  it('imports an uploaded PLY, pushes job events over the WebSocket, and streams the points back', async () => {
    const events: StudioEvent[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers: auth });
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => resolve());
      socket.on('error', reject);
    });
    socket.on('message', (data) => events.push(JSON.parse(String(data)) as StudioEvent));

    const cloud = rgbCubes(6);
    const upload = await raw(server, '/api/upload?name=cubes.ply', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      body: plyBytes(cloud),
    });
    expect(upload.status).toBe(200);
    const { uploadId } = json(upload).result as { uploadId: string };
    const started = await call('scenes.import', { sources: [{ kind: 'upload', uploadId }] });
    expect(started.status).toBe(200);
    const { jobId } = json(started).result as { jobId: string };

    const finished = await studio.waitForJob(jobId);
    expect(finished.status, finished.error?.message).toBe('succeeded');
    await expect
      .poll(
        () => events.some((e) => e.type === 'job' && e.job.id === jobId && e.job.status === 'succeeded'),
        { timeout: 20_000 },
      )
      .toBe(true);
    socket.close();
    const jobEvents = events.filter(
      (e): e is { type: 'job'; job: JobInfo } => e.type === 'job' && e.job.id === jobId,
    );
    expect(jobEvents.length).toBeGreaterThan(1);

    const scenes = json(await call('scenes.list', {})).result as SceneSummary[];
    const scene = scenes.find((s) => s.pointCount === cloud.positions.length / 3);
    expect(scene).toBeDefined();
    const points = await raw(server, `/blobs/scenes/${scene!.id}/points.f32`, { headers: auth });
    expect(points.status).toBe(200);
    expect(points.headers['content-type']).toBe('application/octet-stream');
    expect(Number(points.headers['content-length'])).toBe(cloud.positions.byteLength);
    const got = new Float32Array(points.body.buffer, points.body.byteOffset, points.body.byteLength / 4);
    expect(Array.from(got.slice(0, 6))).toEqual(Array.from(cloud.positions.slice(0, 6)));
    const colors = await raw(server, `/blobs/scenes/${scene!.id}/colors.u8`, { headers: auth });
    expect(Buffer.compare(colors.body, Buffer.from(cloud.colors))).toBe(0);
    const missing = await raw(server, '/blobs/scenes/scn_nope/points.f32', { headers: auth });
    expect(missing.status).toBe(404);

    // Edit blobs: the keep mask of an unedited cloud keeps every point; a filter that
    // needs a reconstruction answers with the core's message and fix, not a bare 500.
    const keep = await raw(server, `/blobs/scenes/${scene!.id}/edits/keep.u8?rev=x`, { headers: auth });
    expect(keep.status).toBe(200);
    expect(keep.body.length).toBe(cloud.positions.length / 3);
    expect(keep.body.every((v) => v === 1)).toBe(true);
    const scores = await raw(server, `/blobs/scenes/${scene!.id}/edits/scores/depthEdge.f32`, {
      headers: auth,
    });
    expect(scores.status).toBe(400);
    expect(json(scores).error).toMatchObject({
      code: 'invalid-input',
      fix: expect.stringMatching(/Reconstruct/),
    });
  });
});
