/**
 * The dashboard in a real headless Chromium: a small driver simulates the pipeline (counters, tweets, commits,
 * dead letters every 200 ms) against a real Metrics + LiveState + HTTP server, and the page must update live over
 * SSE, fill its lists, and say when the stream drops. Leaves test-artifacts/dashboard.png to look at.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { silentLogger } from '../../../src/log.ts';
import { startHttpServer } from '../../../src/observe/http-server.ts';
import { LiveState } from '../../../src/observe/live-state.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import type { SourceState } from '../../../src/sources/source.ts';
import { type ChromiumSession, launchChromium } from '../../helpers/browser.ts';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const TOPIC = 'twitter_data';
const LANGS = ['en', 'en', 'en', 'es', 'ja', 'pt', 'fr', 'en', 'de', 'es'];
const TAGS = [
  'NowPlaying',
  'music',
  'AI',
  'Football',
  'LaLiga',
  'アニメ',
  'travel',
  'tech',
  'Brasil',
  'NBA',
  'Paris',
];

/** Simulates `tweetpipe run`: what the producer and the sink report, a little every 200 ms. */
function startDriver(metrics: Metrics, live: LiveState): () => void {
  let step = 0;
  let offset = 0;
  metrics.reconnects.inc({ source: 'synthetic' });
  const timer = setInterval(() => {
    step++;
    const batch = 150 + (step % 7) * 20;
    const values = Array.from({ length: batch }, (_, i) => {
      const n = step * 1000 + i;
      const tags = [TAGS[n % TAGS.length]!, TAGS[(n * 7) % 5]!].map((tag) => ({ start: 0, end: 1, tag }));
      return Buffer.from(
        JSON.stringify({ id: String(n), lang: LANGS[n % LANGS.length], entities: { hashtags: tags } }),
      );
    });
    metrics.received.inc({ source: 'synthetic' }, batch + 3);
    metrics.duplicates.inc({ source: 'synthetic' }, 3);
    metrics.produced.inc({ topic: TOPIC }, batch);
    metrics.producedBytes.inc({ topic: TOPIC }, batch * 1100);
    metrics.consumed.inc({ topic: TOPIC }, batch - 10);
    live.onTweets(values);
    for (let p = 0; p < 6; p++)
      metrics.lag.set({ topic: TOPIC, partition: String(p) }, 200 + ((step * 37 + p * 53) % 400));
    if (step % 4 === 0) {
      const records = 600 + (step % 3) * 50;
      const partition = step % 6;
      const path = `/twitter_data/twitter_data/dt=2026-11-25/hour=06/${TOPIC}+${partition}+${offset}+${offset + records - 1}.jsonl.gz`;
      offset += records;
      metrics.written.inc({ topic: TOPIC, format: 'jsonl' }, records);
      metrics.writtenBytes.inc({ topic: TOPIC, format: 'jsonl' }, records * 380);
      metrics.filesCommitted.inc({ topic: TOPIC });
      metrics.commitLatency.observe(0.08);
      for (let i = 0; i < 20; i++) metrics.endToEndLatency.observe(1.5 + (i % 10) * 0.6);
      live.onCommit({ path, bytes: records * 380, records });
    }
    if (step % 9 === 0) {
      metrics.deadLetters.inc({ stage: 'source' });
      live.onDeadLetter('source', 'not JSON: Unexpected token } in JSON at position 17');
    }
  }, 200);
  return () => clearInterval(timer);
}

describe('dashboard in headless Chromium', () => {
  const metrics = new Metrics({ processMetrics: false });
  const sourceState = (): SourceState => ({ state: 'connected', reconnects: 1 });
  const live = new LiveState({ metrics, sourceState });
  let stopDriver: () => void = () => {};
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let browser: ChromiumSession;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    server = await startHttpServer({
      port: 0,
      metrics,
      live,
      ready: async () => ({ ok: true, checks: {} }),
      log: silentLogger,
      tickMs: 250,
    });
    stopDriver = startDriver(metrics, live);
    await sleep(1500); // some history, so the charts have a curve as soon as the page opens
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  after(async () => {
    stopDriver();
    await browser?.close();
    await server?.close();
  });

  test('updates live, fills its lists, and shows a dropped stream', { timeout: 60_000 }, async () => {
    await page.goto(server.url);
    const produced = page.getByTestId('produced-total');
    const readProduced = async () => (await produced.textContent())?.trim() ?? '';
    await page.waitForFunction(
      () => document.querySelector('[data-testid="produced-total"]')?.textContent !== '–',
    );
    const first = await readProduced();
    const waitForChange = (from: string) =>
      page.waitForFunction(
        (previous) => document.querySelector('[data-testid="produced-total"]')?.textContent !== previous,
        from,
      );
    await waitForChange(first);
    const second = await readProduced();
    await waitForChange(second);
    const third = await readProduced();
    const asNumber = (text: string) => Number(text.replaceAll(',', ''));
    assert.ok(
      asNumber(first) < asNumber(second) && asNumber(second) < asNumber(third),
      `${first} ${second} ${third}`,
    );

    await page.getByTestId('file-row').first().waitFor();
    assert.match(
      (await page.getByTestId('files').textContent()) ?? '',
      /twitter_data\+\d\+\d+\+\d+\.jsonl\.gz/,
    );
    const hashtags = await page.getByTestId('hashtags').locator('li').allTextContents();
    const languages = await page.getByTestId('languages').locator('li').allTextContents();
    assert.ok(hashtags.length >= 5 && hashtags.some((h) => h.startsWith('#')), hashtags.join(' | '));
    assert.ok(
      languages.some((l) => l.startsWith('en')),
      languages.join(' | '),
    );
    assert.equal(await page.getByTestId('source-state').textContent(), 'connected');
    assert.notEqual(await page.getByTestId('files-committed').textContent(), '0');
    assert.match((await page.getByTestId('lag-partitions').textContent()) ?? '', /^6 partitions$/);
    assert.equal(await page.getByTestId('connection-status').getAttribute('data-state'), 'live');
    // The charts drew from the history sent at connect: uPlot renders one canvas per chart.
    assert.equal(await page.locator('.chart canvas').count(), 3);

    await page.waitForTimeout(1200); // one more commit and dead letter in view for the screenshot
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    stopDriver();
    await server.close();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-state') ===
        'disconnected',
    );
    assert.match((await page.getByTestId('connection-status').textContent()) ?? '', /disconnected, retrying/);
    // A dropped stream is an expected network error in the console; anything else (CSP, script) is a bug.
    assert.deepEqual(
      pageErrors.filter((e) => !e.includes('ERR_CONNECTION_REFUSED') && !e.includes('/api/events')),
      [],
    );
  });
});
