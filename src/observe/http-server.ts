/**
 * The operator's HTTP endpoint: Prometheus `/metrics`, `/healthz` and `/readyz` for orchestrators, and the live
 * dashboard (static page + `/api/snapshot` + Server-Sent Events). Plain node:http: a handful of fixed routes do not
 * need a framework. Static files are a fixed table read once at start, so no request path ever reaches the file
 * system (no traversal to guard against).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { TweetpipeError } from '../errors.ts';
import { type Logger, maskSecrets } from '../log.ts';
import type { LiveState } from './live-state.ts';
import type { Metrics } from './metrics.ts';

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ok: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface HttpServerOptions {
  /** Default 127.0.0.1: the dashboard has no authentication, so it is not exposed unless asked. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  metrics: Metrics;
  live: LiveState;
  ready: () => Promise<Readiness>;
  log: Logger;
  /** How often a snapshot is taken and pushed to the open dashboards. */
  tickMs?: number;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

interface StaticFile {
  body: Buffer;
  type: string;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { metrics, live, log } = opts;
  const files = await loadStaticFiles();
  const streams = new Set<ServerResponse>();

  const push = (res: ServerResponse, event: string, data: unknown): void => {
    // A client that does not keep up misses snapshots instead of growing our buffers.
    if (res.writableNeedDrain) return;
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/metrics': async (_req, res) => {
      send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
    },
    '/healthz': async (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/readyz': async (_req, res) => {
      let readiness: Readiness;
      try {
        readiness = await opts.ready();
      } catch (err) {
        const detail = maskSecrets(err instanceof Error ? err.message : String(err));
        readiness = { ok: false, checks: { readiness: { ok: false, detail } } };
      }
      sendJson(res, readiness.ok ? 200 : 503, readiness);
    },
    '/api/snapshot': async (_req, res) => sendJson(res, 200, await live.snapshot()),
    '/api/events': async (_req, res) => {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      push(res, 'history', live.history());
      push(res, 'snapshot', await live.snapshot());
      streams.add(res);
      res.on('close', () => streams.delete(res));
    },
  };
  for (const [path, file] of files)
    routes[path] = async (_req, res) => send(res, 200, file.type, file.body, 'no-cache');

  const server = createServer((req, res) => {
    // The raw path, not a parsed URL: no normalisation, so only the exact route strings ever match.
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    route(req, res).catch((err: unknown) => {
      log.warn({ err, path }, 'http request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  let ticking = false;
  const tick = async () => {
    if (ticking) return; // a slow registry read must not stack ticks
    ticking = true;
    try {
      const snapshot = await live.tick();
      for (const res of streams) push(res, 'snapshot', snapshot);
    } catch (err) {
      log.warn({ err }, 'dashboard snapshot failed');
    } finally {
      ticking = false;
    }
  };

  const host = opts.host ?? '127.0.0.1';
  await listen(server, host, opts.port ?? 8787);
  const timer = setInterval(() => void tick(), opts.tickMs ?? 1000);
  timer.unref();
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'dashboard and metrics listening');

  return {
    url,
    close: async () => {
      clearInterval(timer);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The dashboard's files and uPlot's two, by the exact URL path that serves each. */
async function loadStaticFiles(): Promise<Map<string, StaticFile>> {
  const require = createRequire(import.meta.url);
  const own = (name: string) => new URL(`./dashboard/${name}`, import.meta.url);
  const table: [string, URL | string, string][] = [
    ['/', own('index.html'), 'text/html; charset=utf-8'],
    ['/static/app.js', own('app.js'), 'text/javascript; charset=utf-8'],
    ['/static/style.css', own('style.css'), 'text/css; charset=utf-8'],
    [
      '/static/uPlot.iife.min.js',
      require.resolve('uplot/dist/uPlot.iife.min.js'),
      'text/javascript; charset=utf-8',
    ],
    ['/static/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  const files = new Map<string, StaticFile>();
  for (const [path, source, type] of table) files.set(path, { body: await readFile(source), type });
  return files;
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new TweetpipeError('PORT_IN_USE', `port ${port} on ${host} is in use (set metrics.port)`, {
              cause: err,
              details: { host, port },
            })
          : new TweetpipeError(
              'CONFIG_INVALID',
              `cannot listen on ${host}:${port} (check metrics.host and metrics.port): ${err.message}`,
              { cause: err, details: { host, port } },
            ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  cache = 'no-store',
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}
