// Web mode's doors: only this machine, only with the session token.

import { networkInterfaces } from 'node:os';
import { request } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { launchChromium, missingPrerequisites, startStudio, type StudioUnderTest } from './harness';

const skipReason = missingPrerequisites();

function wsOutcome(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
}

describe.skipIf(skipReason !== null)(
  `web mode security${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;

    beforeAll(async () => {
      studio = await startStudio();
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
    });

    it('serves the API only with the token', async () => {
      const body = JSON.stringify({ name: 'scenes.list', input: {} });
      const headers = { 'Content-Type': 'application/json' };
      const anonymous = await fetch(`${studio.origin}/api/call`, { method: 'POST', headers, body });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      const withToken = await fetch(`${studio.origin}/api/call`, {
        method: 'POST',
        headers: { ...headers, Authorization: `Bearer ${studio.token}` },
        body,
      });
      expect(withToken.status).toBe(200);
      expect(await withToken.json()).toEqual({ ok: true, result: [] });
    });

    it('shows a browser without the token no studio, and one with it the app', async () => {
      const stranger = await browser.newPage();
      const refused = await stranger.goto(studio.origin + '/');
      expect(refused?.status()).toBe(401);
      expect(await stranger.locator('#root').count()).toBe(0);
      await stranger.close();

      const owner = await browser.newPage();
      await owner.goto(studio.url);
      await owner.getByTestId('library').waitFor();
      const cookies = await owner.context().cookies();
      const session = cookies.find((cookie) => cookie.name.startsWith('g2studio_session'));
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      // Scripts in the page cannot read the token.
      expect(await owner.evaluate(() => document.cookie)).toBe('');
      await owner.close();
    });

    it('refuses the events WebSocket without the token', async () => {
      const wsUrl = `ws://127.0.0.1:${studio.port}/api/events`;
      expect(await wsOutcome(wsUrl)).toBe('http 401');
      expect(await wsOutcome(`${wsUrl}?token=wrong`)).toBe('http 401');
      expect(await wsOutcome(wsUrl, { Authorization: `Bearer ${studio.token}` })).toBe('open');
    });

    it('listens on 127.0.0.1 only', async () => {
      expect(studio.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const addresses = Object.values(networkInterfaces())
        .flat()
        .filter((net): net is NonNullable<typeof net> => !!net && !net.internal)
        .map((net) => net.address);
      for (const address of addresses) {
        const reached = await new Promise<boolean>((resolve) => {
          const req = request({ host: address, port: studio.port, path: '/', timeout: 2000 }, () =>
            resolve(true),
          );
          req.on('error', () => resolve(false));
          req.on('timeout', () => {
            req.destroy();
            resolve(false);
          });
          req.end();
        });
        expect(reached, `reachable on ${address}`).toBe(false);
      }
      // A page from another host name that resolves here (DNS rebinding) is refused.
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: studio.port,
            path: `/?token=${studio.token}`,
            headers: { Host: `attacker.example:${studio.port}` },
          },
          (res) => resolve(res.statusCode ?? 0),
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(421);
    });
  },
);
