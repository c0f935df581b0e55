#!/usr/bin/env node
// Entry point: the CLI is TypeScript run by Node's built-in type stripping (Node >= 22.18; npm scripts use the
// Node 24 from the `node` devDependency), so there is no build step between the source and what runs.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `tweetpipe needs Node.js >= 22.18 (found ${process.versions.node}). Run it through npm (\`npm run tweetpipe -- ...\` or \`npx tweetpipe\`), which uses the Node 24 installed by \`npm install\`.`,
  );
  process.exit(2);
}
await import('../src/cli/main.ts');
