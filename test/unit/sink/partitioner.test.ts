import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import {
  createPartitioner,
  escapePartitionValue,
  FieldPartitioner,
  HIVE_DEFAULT_PARTITION,
  TimePartitioner,
} from '../../../src/sink/partitioner.ts';
import type { SinkRecord } from '../../../src/sink/sink-record.ts';

const at = (iso: string): number => Date.parse(iso);

function record(timestampMs: number, doc: Record<string, unknown> = { id: '1' }): SinkRecord {
  return {
    topic: 't',
    partition: 0,
    offset: 0n,
    timestampMs,
    value: Buffer.from('{}'),
    doc,
    headers: new Map(),
  };
}

/** The expected directory computed the slow way, straight from Intl, for comparison. */
function viaIntl(ms: number, timeZone: string, granularity: 'day' | 'hour' | 'minute'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const dt = `dt=${parts.year}-${parts.month}-${parts.day}`;
  if (granularity === 'day') return dt;
  if (granularity === 'hour') return `${dt}/hour=${parts.hour}`;
  return `${dt}/hour=${parts.hour}/minute=${parts.minute}`;
}

describe('TimePartitioner', () => {
  test('UTC by default, Hive style, hour boundaries exact to the millisecond', () => {
    const p = new TimePartitioner('hour');
    assert.equal(p.path(at('2026-11-25T06:59:59.999Z')), 'dt=2026-11-25/hour=06');
    assert.equal(p.path(at('2026-11-25T07:00:00.000Z')), 'dt=2026-11-25/hour=07');
    assert.equal(p.path(at('2026-12-31T23:59:59.999Z')), 'dt=2026-12-31/hour=23');
    assert.equal(p.path(at('2027-01-01T00:00:00.000Z')), 'dt=2027-01-01/hour=00');
  });

  test('day and minute granularity', () => {
    assert.equal(new TimePartitioner('day').path(at('2026-02-28T23:59:00Z')), 'dt=2026-02-28');
    const m = new TimePartitioner('minute');
    assert.equal(m.path(at('2026-11-25T06:07:59.999Z')), 'dt=2026-11-25/hour=06/minute=07');
    assert.equal(m.path(at('2026-11-25T06:08:00Z')), 'dt=2026-11-25/hour=06/minute=08');
  });

  test('America/New_York across both DST transitions of 2026', () => {
    const p = new TimePartitioner('hour', 'America/New_York');
    // Spring forward on 8 March at 02:00 local (07:00Z): 01:59 EST is followed by 03:00 EDT.
    assert.equal(p.path(at('2026-03-08T06:59:59Z')), 'dt=2026-03-08/hour=01');
    assert.equal(p.path(at('2026-03-08T07:00:00Z')), 'dt=2026-03-08/hour=03');
    // Fall back on 1 November at 02:00 local (06:00Z): the 01 hour happens twice.
    assert.equal(p.path(at('2026-11-01T05:30:00Z')), 'dt=2026-11-01/hour=01');
    assert.equal(p.path(at('2026-11-01T06:30:00Z')), 'dt=2026-11-01/hour=01');
    assert.equal(p.path(at('2026-11-01T07:00:00Z')), 'dt=2026-11-01/hour=02');
    // Local midnight is 05:00Z in winter: the day changes there, not at UTC midnight.
    assert.equal(p.path(at('2026-11-25T04:59:59Z')), 'dt=2026-11-24/hour=23');
  });

  test('half- and quarter-hour zones change hour in the middle of a UTC hour', () => {
    const kolkata = new TimePartitioner('hour', 'Asia/Kolkata');
    assert.equal(kolkata.path(at('2026-11-25T00:29:59Z')), 'dt=2026-11-25/hour=05');
    assert.equal(kolkata.path(at('2026-11-25T00:30:00Z')), 'dt=2026-11-25/hour=06');
    const kathmandu = new TimePartitioner('hour', 'Asia/Kathmandu');
    assert.equal(kathmandu.path(at('2026-11-25T00:14:59Z')), 'dt=2026-11-25/hour=05');
    assert.equal(kathmandu.path(at('2026-11-25T00:15:00Z')), 'dt=2026-11-25/hour=06');
    // Lord Howe Island moves its clocks by 30 minutes (02:00 -> 02:30 on 4 October 2026, 15:30Z).
    const lordHowe = new TimePartitioner('minute', 'Australia/Lord_Howe');
    assert.equal(lordHowe.path(at('2026-10-03T15:29:00Z')), 'dt=2026-10-04/hour=01/minute=59');
    assert.equal(lordHowe.path(at('2026-10-03T15:30:00Z')), 'dt=2026-10-04/hour=02/minute=30');
  });

  test('agrees with Intl for random instants in many zones', () => {
    const zones = [
      'UTC',
      'Europe/Paris',
      'America/St_Johns',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
    ];
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const zone of zones) {
      for (const granularity of ['day', 'hour', 'minute'] as const) {
        const p = new TimePartitioner(granularity, zone);
        for (let i = 0; i < 300; i++) {
          const ms = Math.floor(at('2020-01-01T00:00:00Z') + random() * 10 * 365 * 86_400_000);
          assert.equal(
            p.path(ms),
            viaIntl(ms, zone, granularity),
            `${zone} ${granularity} ${new Date(ms).toISOString()}`,
          );
        }
      }
    }
  });

  test('does not call Intl per record', () => {
    const original = Intl.DateTimeFormat.prototype.formatToParts;
    let calls = 0;
    Intl.DateTimeFormat.prototype.formatToParts = function (this: Intl.DateTimeFormat, d?: Date | number) {
      calls++;
      return original.call(this, d);
    };
    try {
      const p = new TimePartitioner('hour', 'Europe/Berlin');
      const start = at('2026-11-25T06:00:00Z');
      for (let i = 0; i < 10_000; i++) p.path(start + i * 360); // one hour of records
      assert.ok(calls <= 4, `formatToParts called ${calls} times for one hour of records`);
    } finally {
      Intl.DateTimeFormat.prototype.formatToParts = original;
    }
  });

  test('the default zone (UTC) makes no Intl.DateTimeFormat: the first one reads ICU data into memory', async () => {
    // A module instance of its own: this file's other tests have cached formatters in the shared one.
    const { TimePartitioner: Fresh } = (await import(
      `../../../src/sink/partitioner.ts?no-intl-${Date.now()}`
    )) as typeof import('../../../src/sink/partitioner.ts');
    const Original = Intl.DateTimeFormat;
    let made = 0;
    Intl.DateTimeFormat = new Proxy(Original, {
      construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
        made++;
        return new target(...args);
      },
    });
    try {
      assert.equal(new Fresh('hour').path(at('2026-11-25T06:59:59.999Z')), 'dt=2026-11-25/hour=06');
      assert.equal(new Fresh('day', 'UTC').path(at('2026-11-25T23:59:59Z')), 'dt=2026-11-25');
      assert.equal(made, 0);
      // Any other zone still goes through Intl (one formatter per zone, made once).
      new Fresh('hour', 'Asia/Tbilisi');
      new Fresh('day', 'Asia/Tbilisi');
      assert.equal(made, 1);
    } finally {
      Intl.DateTimeFormat = Original;
    }
  });

  test('an unknown zone is a config error', () => {
    assert.throws(
      () => new TimePartitioner('hour', 'Mars/Olympus_Mons'),
      (e: unknown) => e instanceof TweetpipeError && e.code === 'CONFIG_INVALID' && /Mars/.test(e.message),
    );
  });
});

describe('field partitioning', () => {
  test('a plain value is used as is; missing, empty and non-scalar values go to the default partition', () => {
    const lang = new FieldPartitioner('lang');
    assert.equal(lang.directory({ lang: 'en' }), 'lang=en');
    assert.equal(lang.directory({}), `lang=${HIVE_DEFAULT_PARTITION}`);
    assert.equal(lang.directory({ lang: '' }), `lang=${HIVE_DEFAULT_PARTITION}`);
    assert.equal(lang.directory({ lang: null }), `lang=${HIVE_DEFAULT_PARTITION}`);
    assert.equal(lang.directory({ lang: { x: 1 } }), `lang=${HIVE_DEFAULT_PARTITION}`);
    assert.equal(
      new FieldPartitioner('author.verified').directory({ author: { verified: true } }),
      'author.verified=true',
    );
    assert.equal(new FieldPartitioner('n').directory({ n: 42 }), 'n=42');
  });

  test('path traversal cannot leave the directory', () => {
    const lang = new FieldPartitioner('lang');
    assert.equal(lang.directory({ lang: '../../etc' }), 'lang=..%2F..%2Fetc');
    assert.equal(lang.directory({ lang: '..\\..\\windows' }), 'lang=..%5C..%5Cwindows');
    assert.equal(lang.directory({ lang: '/abs' }), 'lang=%2Fabs');
    for (const v of ['..', '.', '../x', 'a/../../b']) assert.ok(!lang.directory({ lang: v }).includes('/'));
  });

  test('escapes like Hive: controls, =, %, :, quotes and the rest as %XX; keeps unicode', () => {
    assert.equal(escapePartitionValue('a=b'), 'a%3Db');
    assert.equal(escapePartitionValue('50%'), '50%25');
    assert.equal(escapePartitionValue('line\nbreak\ttab\u0000nul'), 'line%0Abreak%09tab%00nul');
    assert.equal(escapePartitionValue('x:y?z*"\'#{[]^'), 'x%3Ay%3Fz%2A%22%27%23%7B%5B%5D%5E');
    assert.equal(escapePartitionValue('del\u007f c1\u0085'), 'del%7F c1%85');
    assert.equal(escapePartitionValue('日本語 🎸 émoji'), '日本語 🎸 émoji');
    // Hive's unescape is the inverse: every %XX turns back into its character.
    const tricky = 'a=b/c\\d%e\n日本';
    const unescaped = escapePartitionValue(tricky).replace(/%([0-9A-F]{2})/g, (_, h) =>
      String.fromCharCode(Number.parseInt(h, 16)),
    );
    assert.equal(unescaped, tricky);
  });

  test('a lone surrogate (a JSON \\ud800 escape) becomes U+FFFD: a path must be valid UTF-8 to reach HDFS', () => {
    const lang = new FieldPartitioner('lang');
    for (const [value, dir] of [
      ['\ud800', 'lang=\ufffd'],
      ['a\udfffb/', 'lang=a\ufffdb%2F'],
      ['🎸\ud83c', 'lang=🎸\ufffd'],
    ]) {
      assert.equal(lang.directory({ lang: value }), dir);
      assert.doesNotThrow(() => encodeURIComponent(dir as string), 'WebHDFS encodes every path component');
    }
  });

  test('a very long value is cut to an HDFS path component without splitting a character or an escape', () => {
    const dir = new FieldPartitioner('text').directory({ text: `${'🎸'.repeat(100)}/${'x'.repeat(300)}` });
    assert.ok(Buffer.byteLength(dir) <= 255);
    assert.ok(!dir.includes('\uFFFD'));
    assert.match(dir, /^text=(🎸)+(%2F)?x*$/u);
  });

  test('a bad field name is a config error', () => {
    assert.throws(
      () => new FieldPartitioner('../x'),
      (e: unknown) => e instanceof TweetpipeError && e.code === 'CONFIG_INVALID',
    );
  });
});

describe('createPartitioner', () => {
  test('time directories first, then the fields in order', () => {
    const p = createPartitioner({ granularity: 'hour', fields: ['lang', 'source'] });
    const r = record(at('2026-11-25T06:10:00Z'), { id: '1', lang: 'ja', source: 'a/b' });
    assert.equal(p.path(r), 'dt=2026-11-25/hour=06/lang=ja/source=a%2Fb');
    assert.equal(createPartitioner({ granularity: 'day' }).path(r), 'dt=2026-11-25');
  });
});
