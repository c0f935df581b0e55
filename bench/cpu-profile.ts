/**
 * Where a profiled tweetpipe child spent its time: a V8 .cpuprofile (node --cpu-prof) reduced to self time per
 * function and per file (a file of a package under node_modules, of ours, or of Node's internals), with the idle and
 * GC shares, so a slow figure comes with its likely cause. Self time only: it points at the code that burns the CPU.
 */
import { readFile } from 'node:fs/promises';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  selfMs: number;
  /** Share of the non-idle time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idlePercent: number;
  gcPercent: number;
  functions: Hotspot[];
  files: Hotspot[];
}

export async function summarizeCpuProfile(file: string, top = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (frame.functionName === '(garbage collector)') gcUs += us;
    const where = moduleOf(frame.url);
    const fn = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const file = where || frame.functionName;
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, percent: (100 * us) / busyUs }));
  return {
    file,
    totalMs: totalUs / 1000,
    idlePercent: (100 * idleUs) / Math.max(1, totalUs),
    gcPercent: (100 * gcUs) / busyUs,
    functions: rank(functions),
    files: rank(files),
  };
}

/** 'file:///…/node_modules/@platformatic/kafka/dist/x.js' -> '@platformatic/kafka/dist/x.js'; ours -> 'src/…'. */
function moduleOf(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);
  const ours = /\/((?:src|bench|bin)\/.*)$/.exec(path);
  return ours?.[1] ?? path;
}

export function formatProfile(s: ProfileSummary): string {
  const list = (items: Hotspot[]) =>
    items.map((h) => `    ${h.percent.toFixed(1).padStart(5)}%  ${h.name}`).join('\n');
  return [
    `  ${s.file}: ${(s.totalMs / 1000).toFixed(1)} s profiled, ${s.idlePercent.toFixed(0)}% idle, GC ${s.gcPercent.toFixed(1)}% of busy time`,
    '  top files (self time, % of busy):',
    list(s.files),
    '  top functions (self time, % of busy):',
    list(s.functions),
  ].join('\n');
}
