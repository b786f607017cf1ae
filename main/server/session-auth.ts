// Who may talk to the web-mode server: a page on this machine that holds the
// per-session token. The token travels in the printed URL (?token=…) once; the
// first page load turns it into a SameSite=Strict HttpOnly cookie, so scripts
// never see it and other sites can neither send nor read it. API clients
// (scripts, tests) may send `Authorization: Bearer <token>` instead.
//
// The Host header check defends against DNS rebinding: a hostile page whose
// name re-resolves to 127.0.0.1 still sends its own name as Host.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { StudioError } from '../common/errors';

/** Host names the server accepts in Host/Origin headers (loopback only). */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Bind addresses we accept; anything else would expose the library to the network. */
const LOOPBACK_BIND_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function assertLoopbackBindHost(host: string): void {
  if (!LOOPBACK_BIND_HOSTS.has(host)) {
    throw new StudioError(
      'invalid-input',
      `Refusing to listen on "${host}": the web mode only serves this machine (loopback).`,
      'Leave the host out or use 127.0.0.1; open the printed URL in a browser on this machine.',
    );
  }
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Cookies are not scoped by port, so two studios on one machine would overwrite
 * each other's cookie under one name; the port keeps them apart.
 */
export function sessionCookieName(port: number): string {
  return `g2studio_session_${port}`;
}

export function sessionCookie(port: number, token: string): string {
  return `${sessionCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

function sameToken(candidate: string | undefined | null, token: string): boolean {
  if (!candidate) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export type TokenSource = 'cookie' | 'header' | 'query' | null;

/**
 * A browser opening a page (not the API, blobs or the events socket): the only
 * request on which the printed ?token= is exchanged for the cookie.
 */
export function isPageLoad(method: string | undefined, pathname: string): boolean {
  return (
    (method === 'GET' || method === 'HEAD') &&
    !pathname.startsWith('/api/') &&
    !pathname.startsWith('/blobs/')
  );
}

/**
 * Which credential (if any) on this request carries the session token. The
 * query parameter counts only on a page load, where the server swaps it for the
 * cookie at once: a token in a URL leaks through history, logs and Referer, so
 * it must not open the API or blobs.
 */
export function findValidToken(req: IncomingMessage, url: URL, port: number, token: string): TokenSource {
  if (sameToken(cookieValue(req.headers.cookie, sessionCookieName(port)), token)) return 'cookie';
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && sameToken(auth.slice('Bearer '.length).trim(), token)) return 'header';
  if (isPageLoad(req.method, url.pathname) && sameToken(url.searchParams.get('token'), token)) return 'query';
  return null;
}

/** The Host header names a loopback address on our port. */
export function isAllowedHost(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim());
  if (!match) return false;
  const [, name, portText] = match;
  return LOOPBACK_NAMES.has(name.toLowerCase()) && Number(portText ?? '80') === port;
}

/** A browser's Origin (when sent) must be this server, on a loopback name. */
export function isAllowedOrigin(originHeader: string | undefined, port: number): boolean {
  if (originHeader === undefined) return true; // not a browser cross-origin request
  try {
    const origin = new URL(originHeader);
    return origin.protocol === 'http:' && isAllowedHost(origin.host, port);
  } catch {
    return false;
  }
}
