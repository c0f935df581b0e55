/**
 * WebHDFS against the Kerberized HDFS of `stack up --kerberos` (started here when not running): SPNEGO then a
 * delegation token on every call (DataNode redirects included), a token given by the user, a token that expires
 * mid-run, and clear errors for a bad keytab and an unknown principal.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { loadConfig } from '../../../src/config.ts';
import type { TweetpipeError } from '../../../src/errors.ts';
import { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import type { HdfsAuthSettings } from '../../../src/hdfs/webhdfs-auth.ts';
import { negotiateHeader } from '../../../src/kerberos/gssapi.ts';
import { type KerberosClientSettings, kerberosUp } from '../../../src/stack/kerberos-stack.ts';
import { runCli } from '../../helpers/cli.ts';

const stackConfig = loadConfig({
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TWEETPIPE_STACK_'))),
});
const dir = `/kerberos-test-${process.pid}-${Date.now()}`;
let settings: KerberosClientSettings;
let ca: string;
const clients: WebHdfsClient[] = [];

function client(auth: HdfsAuthSettings): WebHdfsClient {
  const c = new WebHdfsClient({
    urls: settings.webhdfs,
    user: 'tweetpipe',
    auth,
    ca,
    retry: { attempts: 3 },
  });
  clients.push(c);
  return c;
}

const kerberos = (over: Partial<KerberosClientSettings> = {}): HdfsAuthSettings => {
  const s = { ...settings, ...over };
  return {
    auth: 'kerberos',
    user: 'tweetpipe',
    kerberos: { principal: s.principal, keytab: s.keytab, krb5Conf: s.krb5Conf, setting: 'hdfs.kerberos' },
  };
};

before(async () => {
  settings = await kerberosUp(stackConfig, () => {});
  ca = await readFile(settings.tlsCa, 'utf8');
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe('WebHDFS on a Kerberized HDFS', { timeout: 300_000 }, () => {
  test('kerberos: SPNEGO, then a delegation token carries CREATE, APPEND and OPEN through the DataNode', async () => {
    const hdfs = client(kerberos());
    await hdfs.mkdirs(dir);
    await hdfs.create(`${dir}/a.txt`, Buffer.from('one\n'));
    await hdfs.append(`${dir}/a.txt`, Buffer.from('two\n'));
    assert.equal((await hdfs.readAll(`${dir}/a.txt`)).toString(), 'one\ntwo\n');
    assert.equal((await hdfs.getFileStatus(`${dir}/a.txt`)).owner, 'tweetpipe');
  });

  test('token: a delegation token given by the user writes and reads', async () => {
    const agent = new Agent({ connect: { ca } });
    const authorization = await negotiateHeader(
      { principal: settings.principal, keytab: settings.keytab, krb5Conf: settings.krb5Conf, setting: 't' },
      'localhost',
    );
    const res = await request(`${settings.webhdfs[0]}/webhdfs/v1/?op=GETDELEGATIONTOKEN&renewer=tweetpipe`, {
      dispatcher: agent,
      headers: { authorization },
    });
    const token = ((await res.body.json()) as { Token: { urlString: string } }).Token.urlString;
    await agent.close();
    const hdfs = client({ auth: 'token', token });
    await hdfs.mkdirs(dir);
    await hdfs.create(`${dir}/token.txt`, Buffer.from('by token\n'));
    assert.equal((await hdfs.readAll(`${dir}/token.txt`)).toString(), 'by token\n');
  });

  test('without credentials the NameNode answers 401: HDFS_AUTH', async () => {
    const hdfs = client({ auth: 'simple', user: 'tweetpipe' });
    await assert.rejects(hdfs.getFileStatus('/'), (err: TweetpipeError) => {
      assert.equal(err.code, 'HDFS_AUTH');
      return true;
    });
  });

  test('a token that reaches its max lifetime mid-run is replaced: every file written once', async () => {
    // The stack's tokens are renewed every 20 s and live 60 s at most: 70 s of writes outlive one.
    const hdfs = client(kerberos());
    await hdfs.mkdirs(`${dir}/run`);
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 70_000) {
      await hdfs.create(`${dir}/run/${String(n).padStart(4, '0')}`, Buffer.from(`${n}\n`));
      n++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const names = (await hdfs.listStatus(`${dir}/run`)).map((s) => s.pathSuffix);
    assert.deepEqual(
      names,
      Array.from({ length: n }, (_, i) => String(i).padStart(4, '0')),
    );
    for (const name of [names[0], names.at(-1)])
      assert.equal((await hdfs.readAll(`${dir}/run/${name}`)).toString(), `${Number(name)}\n`);
  });

  test("a keytab without the principal's keys is an error naming the keytab", async () => {
    const empty = join(settings.keytab, '..', `empty-${process.pid}.keytab`);
    await writeFile(empty, Buffer.from([0x05, 0x02]));
    const hdfs = client(kerberos({ keytab: empty }));
    await assert.rejects(hdfs.getFileStatus('/'), (err: TweetpipeError) => {
      assert.equal(err.code, 'HDFS_AUTH');
      assert.match(err.message, /hdfs\.kerberos\.keytab/);
      assert.ok(err.message.includes(empty));
      return true;
    });
  });

  test('an unknown principal is an error naming the principal', async () => {
    const hdfs = client(kerberos({ principal: 'nobody@TWEETPIPE.LOCAL' }));
    await assert.rejects(hdfs.getFileStatus('/'), (err: TweetpipeError) => {
      assert.equal(err.code, 'HDFS_AUTH');
      assert.match(err.message, /nobody@TWEETPIPE\.LOCAL/);
      return true;
    });
  });

  test('stack status shows the Kerberized stack: the KDC, its servers and their health', async () => {
    const status = await runCli(['stack', 'status']);
    const out = status.stdout + status.stderr;
    assert.match(out, /kerberos kdc\s+running, pid \d+/);
    assert.match(out, /kerberos namenode\s+running, pid \d+/);
    assert.match(out, /kerberos\s+healthy: .*1 DataNode live.*the broker accepts GSSAPI/);
    assert.match(out, /Kerberos client settings .*kerberos\/client\.json/);
  });
});
