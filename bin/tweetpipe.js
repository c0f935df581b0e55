#!/usr/bin/env node
// Entry point: the CLI is TypeScript run by Node's built-in type stripping (Node >= 22.18; npm scripts use the
// Node 24 from the `node` devDependency), so there is no build step between the source and what runs; the
// stripping done ahead of time is loaded where it is current (js-cache-hooks.js, below).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `tweetpipe needs Node.js >= 22.18 (found ${process.versions.node}). Run it through npm (\`npm run tweetpipe -- ...\` or \`npx tweetpipe\`), which uses the Node 24 installed by \`npm install\`.`,
  );
  process.exit(2);
}

// Memory settings that only take effect at process start (docs/benchmarks.md, "Sink memory, fourth round", "Fifth
// round: sink memory" and "Tenth round"):
// - V8's young generation: 128 MiB by default on a machine with a 4 GB heap limit, though what tweetpipe allocates
//   per record dies young or lives in Buffers; 8 MiB semi-spaces (16 MiB in all) cost no measurable CPU (4 MiB
//   saved another 8 MiB for ~5-10% more CPU per tweet: not the default).
// - `tweetpipe sink`'s old generation: how far it may grow past what a full collection left before the next one
//   scales with V8's heap limit, up to 4x at a limit of 2 GB or more (a 64-bit Node's default on a machine of 8 GB
//   or more). A 1 GB limit allows less than 2x: a jsonl.gz sink writing 100 folders peaked at 267 instead of
//   333-351 MiB, parquet ~60 MiB lower, for ~1-2 us a tweet less CPU in jsonl.gz and ~3-4 us more in parquet. The
//   sink's live heap is tens of MiB (its data is in Buffers, outside this limit), so 1 GB is headroom, not a
//   constraint. Only the sink: replay's mapping thread paid ~5-8 us more CPU a tweet for the more
//   frequent collections, and `run` takes what X streams, not a backlog.
// - glibc's mmap threshold: by default it rises to the size of any large block freed (up to 32 MiB), after which
//   the sink's buffers come from malloc's arenas and their freed space stays resident (~100-300 MiB in a sink);
//   fixed at 64 KiB, buffers from 64 KiB up (zlib's 64 KiB windows and tables and the first encoder blocks, which
//   field partitioning opens by the hundred) are mapped and unmapped, and RSS follows what is live. (32 KiB
//   measured ~10% more CPU per tweet for jsonl.gz; 128 KiB left zlib's blocks in the arenas.)
// - The JavaScript of tweetpipe's modules stripped of their types ahead of time (js-cache.js), preloaded by
//   js-cache-hooks.js into the process and, through the inherited flags, its worker threads: Node's own type
//   stripping costs each process ~17 MiB of memory.
// They are applied by replacing this process with one started with them (same pid, so signals and kill -9 reach
// tweetpipe itself). A user's own flag (given to node or in NODE_OPTIONS) or MALLOC_MMAP_THRESHOLD_ wins.
const DEFAULT_V8_FLAGS = [
  '--max-semi-space-size=8',
  ...(process.argv[2] === 'sink' ? ['--max-old-space-size=1024'] : []),
];
const JS_CACHE_HOOKS = new URL('./js-cache-hooks.js', import.meta.url).href;
/** A V8 flag's name as given: V8 reads `_` and `-` alike. */
const flagName = (flag) => flag.split('=')[0].replaceAll('_', '-');
const given = new Set([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName));
const missingFlags = DEFAULT_V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
if (!process.execArgv.includes(`--import=${JS_CACHE_HOOKS}`)) missingFlags.push(`--import=${JS_CACHE_HOOKS}`);
const hasMmapThreshold = process.env.MALLOC_MMAP_THRESHOLD_ !== undefined;
if (typeof process.execve === 'function' && (missingFlags.length > 0 || !hasMmapThreshold)) {
  process.execve(
    process.execPath,
    [process.execPath, ...missingFlags, ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '65536' },
  );
}
await import('../src/cli/main.ts');
