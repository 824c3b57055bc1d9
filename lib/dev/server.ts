/**
 * The dev page's server, on 127.0.0.1 only: the page itself (static files
 * shipped in the package beside this module, dist/dev/ui: no build step, no
 * CDN) and its JSON API (page-api.ts). It answers only requests addressed to
 * a loopback name and JSON posts, so another site open in the same browser
 * cannot create tasks through it.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';

import { handleApi, type ApiAnswer, type PageClient } from './page-api';
import type { SqlReader } from './queries';

export interface DevServerOptions {
  /** The local orchestration's TaskerClient. */
  client: PageClient;
  /** Read-only SQL on tasker's database (a SqlClient). */
  sql: SqlReader;
  /** Default: a free port. */
  port?: number;
  log?: (message: string) => void;
  /** Where the page's files are (default: ui/ beside this module). */
  uiDir?: string;
  /** An API request not answered by then gets a 504 (default 15 s): the page never waits on a stuck query. */
  requestTimeoutMs?: number;
}

export interface DevServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const MAX_BODY = 1 << 20;
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Everything comes from here: a page that loaded anything else would be a bug.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(Object.assign(new Error('the body is too large'), { status: 413 }));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function serveFile(res: ServerResponse, uiDir: string, path: string): Promise<void> {
  const name = path === '/' ? 'index.html' : path.slice(1);
  // Flat folder: one plain file name, nothing that climbs out of it.
  const type = TYPES[extname(name)];
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name) || !type) return send(res, 404, 'not found', 'text/plain; charset=utf-8');
  try {
    send(res, 200, await readFile(join(uiDir, name)), type);
  } catch {
    send(res, 404, 'not found', 'text/plain; charset=utf-8');
  }
}

/** Starts the page's server; resolves once it listens. */
export function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { client, sql, log = () => {}, uiDir = join(__dirname, 'ui'), requestTimeoutMs = 15_000 } = options;
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return sendJson(res, 421, { error: 'this server answers only on 127.0.0.1 / localhost' });
      if (!url.pathname.startsWith('/api/')) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `${req.method} is not allowed` });
        return serveFile(res, uiDir, url.pathname);
      }
      let body: string | undefined;
      if (req.method === 'POST') {
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { error: 'send application/json' });
        body = await readBody(req);
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<ApiAnswer>((resolve) => {
        timer = setTimeout(() => resolve({ status: 504, body: { error: `no answer within ${requestTimeoutMs} ms (database or orchestration busy or gone)` } }), requestTimeoutMs);
      });
      const answer = await Promise.race([handleApi({ client, sql }, req.method ?? 'GET', url.pathname, url.searchParams, body), timedOut]);
      clearTimeout(timer);
      if (answer.status >= 500) log(`${req.method} ${url.pathname}: ${answer.status} ${(answer.body as { error?: string }).error}`);
      sendJson(res, answer.status, answer.body);
    })().catch((error: { status?: number; message?: string }) => {
      // Only reading the request can get here (handleApi answers its own errors).
      if (!res.headersSent) sendJson(res, error.status ?? 400, { error: error.message ?? String(error) });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // The page polls with keep-alive: don't wait for its idle sockets.
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
