/**
 * The dashboard's client: one EventSource on /api/events (the history once, then a snapshot every second), uPlot
 * for the three charts, plain DOM for the rest. Tweet content (hashtags, file paths, reasons) is only ever set as
 * text, never as HTML. EventSource reconnects by itself; the badge says when it is trying.
 */
/* global uPlot */

const MAX_POINTS = 120;
const CHART_HEIGHT = 170;
const $ = (id) => document.getElementById(id);

const points = [];
let lastFileKey = '';

// ---------- formatting ----------

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function compact(n) {
  if (n == null || Number.isNaN(n)) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(n)) return intFmt.format(n);
  return n.toFixed(1);
}

const rate = (n) => `${compact(n)}/s`;

/** Mean rate over the last 10 s of history: written moves in steps (a window counts when it commits). */
function recentRate(key, now) {
  const recent = points.filter((p) => p.time > now - 10_000);
  return recent.length === 0 ? 0 : recent.reduce((sum, p) => sum + p[key], 0) / recent.length;
}

function bytes(n) {
  if (n == null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function seconds(s) {
  if (s == null) return '–';
  if (s === 0) return '0';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

// ---------- DOM helpers ----------

function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showEmpty(id, empty) {
  $(id).hidden = !empty;
}

// ---------- charts ----------

const axisStyle = {
  stroke: '#8b96a5',
  grid: { stroke: '#222b38', width: 1 },
  ticks: { stroke: '#222b38', width: 1 },
  font: '11px system-ui, sans-serif',
};

function makeChart(id, series, format) {
  const container = $(id);
  const chart = new uPlot(
    {
      width: Math.max(200, container.clientWidth),
      height: CHART_HEIGHT,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      padding: [10, 28, 0, 0], // room for the last time label, which uPlot centres on its tick
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.fill ? `${s.color}22` : undefined,
          points: { show: false },
          value: (_u, v) => (v == null ? '–' : format(v)),
        })),
      ],
      axes: [
        {
          ...axisStyle,
          space: 70,
          incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], // whole seconds: the points are a second apart
          values: (_u, splits) => splits.map((t) => clock(t * 1000)),
        },
        { ...axisStyle, size: 62, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
    },
    [[], ...series.map(() => [])],
    container,
  );
  new ResizeObserver(() => {
    const width = Math.max(200, container.clientWidth);
    if (width !== chart.width) chart.setSize({ width, height: CHART_HEIGHT });
  }).observe(container);
  return { chart, series };
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

const charts = [
  makeChart(
    'chart-throughput',
    [
      { label: 'received', key: 'received', color: cssVar('--received') },
      { label: 'produced', key: 'produced', color: cssVar('--produced') },
      { label: 'consumed', key: 'consumed', color: cssVar('--consumed') },
      { label: 'written', key: 'written', color: cssVar('--written'), fill: true },
    ],
    compact,
  ),
  makeChart(
    'chart-latency',
    [
      { label: 'p50', key: 'latencyP50', color: cssVar('--produced') },
      { label: 'p95', key: 'latencyP95', color: cssVar('--p95') },
    ],
    seconds,
  ),
  makeChart('chart-lag', [{ label: 'lag', key: 'lag', color: cssVar('--lag'), fill: true }], compact),
];

function redrawCharts() {
  const times = points.map((p) => p.time / 1000);
  for (const { chart, series } of charts)
    chart.setData([times, ...series.map((s) => points.map((p) => p[s.key]))]);
}

function addPoint(point) {
  if (!point) return;
  const last = points.at(-1);
  if (last && point.time <= last.time) return;
  points.push(point);
  if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
  redrawCharts();
}

// ---------- panels ----------

function renderSource(source) {
  const box = document.querySelector('.source');
  box.dataset.state = source.state;
  setText('source-state', source.state === 'backing-off' ? 'backing off' : source.state);
  const parts = [];
  if (source.state === 'backing-off' && source.until) {
    const inS = Math.max(0, Math.round((source.until - Date.now()) / 1000));
    parts.push(`until ${clock(source.until)} (in ${inS} s)`);
  }
  if (source.reason) parts.push(source.reason);
  if (source.reconnects > 0)
    parts.push(`${source.reconnects} reconnect${source.reconnects === 1 ? '' : 's'}`);
  setText('source-detail', parts.join(' · '));
  box.title = parts.join('\n');
}

function renderBars(id, items, prefix) {
  const list = $(id);
  const max = items.reduce((m, i) => Math.max(m, i.count), 0) || 1;
  list.replaceChildren(
    ...items.map((item) => {
      const li = el('li');
      li.dataset.testid = 'top-item';
      const bar = el('span', 'bar');
      bar.style.width = `${(item.count / max) * 100}%`;
      li.append(bar, el('span', 'name', prefix + item.name), el('span', 'count', compact(item.count)));
      li.title = `${prefix}${item.name}: ~${intFmt.format(item.count)} tweets`;
      return li;
    }),
  );
  showEmpty(`${id}-empty`, items.length === 0);
}

function renderFiles(files) {
  const key = files.map((f) => `${f.path}@${f.at}`).join('|');
  if (key === lastFileKey) return;
  const previous = new Set(lastFileKey.split('|'));
  lastFileKey = key;
  $('files').replaceChildren(
    ...files.map((f) => {
      const tr = el('tr');
      tr.dataset.testid = 'file-row';
      if (previous.size > 1 && !previous.has(`${f.path}@${f.at}`)) tr.className = 'fresh';
      const path = el('td', 'path');
      // rtl keeps the file name (the end) visible when the path is cut; the bdi keeps the slashes in order.
      path.append(el('bdi', '', f.path));
      path.title = f.path;
      tr.append(
        path,
        el('td', 'num', bytes(f.bytes)),
        el('td', 'num', intFmt.format(f.records)),
        el('td', 'num', clock(f.at)),
      );
      return tr;
    }),
  );
  showEmpty('files-empty', files.length === 0);
}

function renderDeadLetters(dl, errors) {
  setText('dlq-count', intFmt.format(dl.count));
  $('dlq-card').dataset.alert = String(dl.count > 0);
  setText('errors-total', `${intFmt.format(errors)} error${errors === 1 ? '' : 's'}`);
  $('dlq-reasons').replaceChildren(
    ...dl.recent.map((d) => {
      const li = el('li');
      li.title = d.reason;
      li.append(
        el('span', 'time', clock(d.at)),
        el('span', 'stage', d.stage),
        el('span', 'reason', d.reason),
      );
      return li;
    }),
  );
  showEmpty('dlq-empty', dl.recent.length === 0);
}

function render(s) {
  addPoint(s.point);
  const t = s.totals;
  setText('received-total', intFmt.format(t.received));
  setText('received-rate', `${rate(recentRate('received', s.time))} · 10 s avg`);
  setText('produced-total', intFmt.format(t.produced));
  setText('produced-rate', `${rate(recentRate('produced', s.time))} · 10 s avg`);
  setText('written-total', intFmt.format(t.written));
  setText('written-rate', `${rate(recentRate('written', s.time))} · 10 s avg`);
  setText('files-committed', intFmt.format(s.files.committed));
  setText('written-bytes', bytes(t.writtenBytes));
  setText('lag-total', intFmt.format(s.lag.total));
  const n = s.lag.partitions.length;
  setText('lag-partitions', `${n} partition${n === 1 ? '' : 's'}`);
  $('partition-lag').replaceChildren(
    ...s.lag.partitions.map((p) => {
      const li = el('li', '', `p${p.partition} `);
      li.title = `${p.topic} partition ${p.partition}`;
      li.append(el('b', '', compact(p.lag)));
      return li;
    }),
  );
  setText('latency-p50', s.latency.p50 == null ? '–' : `p50 ${seconds(s.latency.p50)}`);
  setText('latency-p95', seconds(s.latency.p95));
  setText('latency-mean', seconds(s.latency.mean));
  setText('latency-window', String(s.latency.windowS));
  setText('consumed-total', intFmt.format(t.consumed));
  setText('duplicates-total', intFmt.format(t.duplicates));
  setText('produced-bytes', bytes(t.producedBytes));
  setText('reconnects-total', intFmt.format(t.reconnects));
  setText('top-tweets', intFmt.format(s.top.tweets));
  setText('top-window', `last ${Math.round(s.top.windowS / 60)} min`);
  setText(
    'top-sample',
    s.top.tweets > s.top.sampled ? `sampled ${Math.round((100 * s.top.sampled) / s.top.tweets)}%` : '',
  );
  renderBars('hashtags', s.top.hashtags, '#');
  renderBars('languages', s.top.languages, '');
  renderFiles(s.files.recent);
  renderDeadLetters(s.deadLetters, t.errors);
  renderSource(s.source);
  setText('updated', `updated ${clock(s.time)}`);
}

// ---------- live stream ----------

function setConnection(state, text) {
  const badge = $('connection');
  badge.dataset.state = state;
  badge.textContent = text;
}

const events = new EventSource('/api/events');
events.onopen = () => setConnection('live', '● live');
events.onerror = () => setConnection('disconnected', 'disconnected, retrying…');
events.addEventListener('history', (e) => {
  points.splice(0, points.length, ...JSON.parse(e.data).slice(-MAX_POINTS));
  redrawCharts();
});
events.addEventListener('snapshot', (e) => {
  setConnection('live', '● live');
  render(JSON.parse(e.data));
});
