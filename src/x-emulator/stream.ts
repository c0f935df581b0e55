/**
 * The filtered stream of the X API emulator: open connections, NDJSON lines terminated by `\r\n`, `\r\n`
 * heartbeats, and the stream-side failure scenarios (disconnects, cut lines, operational disconnects, in-stream
 * errors, malformed lines, stalls, duplicates after a reconnect), each counted so tests can observe them.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { ApiEra } from '../sources/x-api/eras.ts';
import { renderErrors } from './era-rendering.ts';
import { type JsonObject, project, type Selection } from './fields.ts';
import type { HistoryEntry } from './history.ts';
import { operationalDisconnect, type Problem, resourceNotFound } from './problems.ts';
import { LINE_FAULTS, type ScenarioName, type ScenarioSettings } from './scenarios.ts';

export interface StreamStats {
  /** Stream connections accepted (200). */
  connections: number;
  /** Stream connections refused because the connection limit was reached. */
  rejectedConnections: number;
  /** Complete, valid tweet lines written (duplicates re-sent on reconnect are counted apart). */
  delivered: number;
  heartbeats: number;
  /** Connections ended or cut by a scenario. */
  disconnectsInjected: number;
  duplicatesSent: number;
  errorsInjected: number;
  malformedInjected: number;
  stalls: number;
  /** Matching tweets a stalled connection did not get (they are in the history for recent search). */
  missedWhileStalled: number;
}

export interface StreamHubOptions {
  heartbeatMs: number;
  maxConnections: number;
  scenarios: ReadonlySet<ScenarioName>;
  settings: ScenarioSettings;
  era: ApiEra;
  now: () => number;
  log: Logger;
}

interface Connection {
  id: number;
  res: ServerResponse;
  selection: Selection;
  lines: number;
  stalledUntil: number;
  timers: NodeJS.Timeout[];
  open: boolean;
}

const STREAM_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-cache, no-store, max-age=0',
};

export class StreamHub {
  readonly stats: StreamStats = {
    connections: 0,
    rejectedConnections: 0,
    delivered: 0,
    heartbeats: 0,
    disconnectsInjected: 0,
    duplicatesSent: 0,
    errorsInjected: 0,
    malformedInjected: 0,
    stalls: 0,
    missedWhileStalled: 0,
  };
  private readonly opts: StreamHubOptions;
  private readonly connections = new Set<Connection>();
  private readonly lineFaults: ScenarioName[];
  private readonly recentLines: string[] = [];
  private faultTurn = 0;

  constructor(opts: StreamHubOptions) {
    this.opts = opts;
    this.lineFaults = LINE_FAULTS.filter((f) => opts.scenarios.has(f));
  }

  get active(): number {
    return this.connections.size;
  }

  isFull(): boolean {
    return this.connections.size >= this.opts.maxConnections;
  }

  /** Starts a 200 stream on `res`; `backlog` (backfill) is written first. */
  open(
    res: ServerResponse,
    selection: Selection,
    headers: Record<string, string>,
    backlog: HistoryEntry[],
  ): void {
    const { scenarios, settings, heartbeatMs, log } = this.opts;
    res.writeHead(200, { ...headers, ...STREAM_HEADERS });
    res.flushHeaders();
    const isReconnect = this.stats.connections > 0;
    this.stats.connections++;
    const conn: Connection = {
      id: this.stats.connections,
      res,
      selection,
      lines: 0,
      stalledUntil: 0,
      timers: [],
      open: true,
    };
    this.connections.add(conn);
    log.info({ connection: conn.id }, 'x-emulator: stream connected');
    res.on('close', () => {
      this.detach(conn);
      log.info({ connection: conn.id }, 'x-emulator: stream closed');
    });
    conn.timers.push(
      setInterval(() => {
        if (!conn.open || this.opts.now() < conn.stalledUntil) return;
        res.write('\r\n');
        this.stats.heartbeats++;
      }, heartbeatMs),
    );
    if (scenarios.has('disconnect-storm')) {
      conn.timers.push(setTimeout(() => this.end(conn, 'disconnect-storm'), settings.disconnectEveryMs));
    }
    if (scenarios.has('duplicates-after-reconnect') && isReconnect) {
      for (const line of this.recentLines) {
        res.write(`${line}\r\n`);
        this.stats.duplicatesSent++;
      }
    }
    for (const entry of backlog) this.deliverTo(conn, entry);
  }

  /** Sends a newly generated tweet (with its matching rules) to every open stream. */
  deliver(entry: HistoryEntry): void {
    for (const conn of this.connections) this.deliverTo(conn, entry);
  }

  /** Cuts every stream at once (tests, shutdown). */
  closeAll(): void {
    for (const conn of this.connections) conn.res.destroy();
  }

  private deliverTo(conn: Connection, entry: HistoryEntry): void {
    if (!conn.open) return;
    if (this.opts.now() < conn.stalledUntil) {
      this.stats.missedWhileStalled++;
      return;
    }
    const message = this.message(conn, entry);
    conn.lines++;
    const fault = this.faultDue(conn);
    if (fault) this.opts.log.debug({ connection: conn.id, fault }, 'x-emulator: injecting fault');
    switch (fault) {
      case 'mid-tweet-disconnect': {
        const line = JSON.stringify(message);
        this.stats.disconnectsInjected++;
        // Destroy only after the half line reached the socket, or the client would not see the partial line.
        conn.res.write(line.slice(0, Math.floor(line.length / 2)), () => conn.res.destroy());
        this.detach(conn);
        return;
      }
      case 'operational-disconnect':
        // 2.167 has no operational-disconnect problem: the stream just ends.
        this.writeTweet(conn, message);
        this.writeErrors(conn, operationalDisconnect().errors);
        this.end(conn, fault);
        return;
      case 'errors-in-stream':
        if (this.stats.errorsInjected++ % 2 === 0) {
          this.writeErrors(conn, [resourceNotFound('author_id', 'user', entry.payload.data.author_id)]);
          this.writeTweet(conn, message);
        } else {
          const { matching_rules, ...rest } = message;
          const problem = resourceNotFound(
            'entities.mentions.username',
            'user',
            entry.payload.data.author_id,
          );
          this.writeTweet(conn, { ...rest, errors: renderErrors([problem], this.opts.era), matching_rules });
        }
        return;
      case 'malformed':
        if (this.stats.malformedInjected++ % 2 === 0) {
          const line = JSON.stringify(message);
          conn.res.write(`${line.slice(0, Math.floor(line.length / 3))}\r\n`);
          this.writeTweet(conn, message);
        } else {
          const { id: _dropped, ...withoutId } = message.data as JsonObject;
          this.writeLine(conn, { ...message, data: withoutId });
        }
        return;
      case 'stall':
        this.writeTweet(conn, message);
        conn.stalledUntil = this.opts.now() + this.opts.settings.stallMs;
        this.stats.stalls++;
        return;
      default:
        this.writeTweet(conn, message);
    }
  }

  private message(conn: Connection, entry: HistoryEntry): JsonObject {
    const { data, includes } = project([entry.payload], conn.selection);
    return includes
      ? { data: data[0], includes, matching_rules: entry.matchingRules }
      : { data: data[0], matching_rules: entry.matchingRules };
  }

  private faultDue(conn: Connection): ScenarioName | undefined {
    if (this.lineFaults.length === 0 || conn.lines % this.opts.settings.everyLines !== 0) return undefined;
    return this.lineFaults[this.faultTurn++ % this.lineFaults.length];
  }

  private writeTweet(conn: Connection, message: JsonObject): void {
    const line = JSON.stringify(message);
    conn.res.write(`${line}\r\n`);
    this.stats.delivered++;
    this.recentLines.push(line);
    if (this.recentLines.length > this.opts.settings.duplicateCount) this.recentLines.shift();
  }

  private writeLine(conn: Connection, message: JsonObject): void {
    conn.res.write(`${JSON.stringify(message)}\r\n`);
  }

  /** An `{"errors": [...]}` line in the era's shapes; nothing when the era has none of them. */
  private writeErrors(conn: Connection, errors: Problem[]): void {
    const rendered = renderErrors(errors, this.opts.era);
    if (rendered.length > 0) this.writeLine(conn, { errors: rendered });
  }

  private end(conn: Connection, reason: ScenarioName): void {
    if (!conn.open) return;
    this.stats.disconnectsInjected++;
    this.opts.log.debug({ connection: conn.id, reason }, 'x-emulator: ending stream');
    this.detach(conn);
    conn.res.end();
  }

  /** Frees the connection's slot at once, so a client reconnecting right away is not refused. */
  private detach(conn: Connection): void {
    conn.open = false;
    for (const t of conn.timers) clearTimeout(t);
    this.connections.delete(conn);
  }
}
