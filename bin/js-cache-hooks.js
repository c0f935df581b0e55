// Preloaded into tweetpipe's processes and their worker threads (bin/tweetpipe.js adds `--import` of this file to
// its node flags, which worker threads inherit): a module loader hook that gives Node the cached JavaScript of a
// .ts module of this repository (js-cache.js) instead of its TypeScript, so that no type stripper is loaded. The
// module keeps its URL (import.meta.url, relative imports and worker URLs are unchanged); a module without a
// current entry loads as before.
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { cachedJs } from './js-cache.js';

// Node >= 22.15 has synchronous hooks (engines asks 22.18); without them modules load as before.
module.registerHooks?.({
  load(url, context, nextLoad) {
    if (url.startsWith('file:') && url.endsWith('.ts')) {
      const path = fileURLToPath(url);
      let source;
      try {
        source = readFileSync(path);
      } catch {
        return nextLoad(url, context);
      }
      const js = cachedJs(path, source);
      if (js !== undefined) return { format: 'module', source: js, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
