/** `tweetpipe stack up | down | status | logs`. */
import type { Command } from 'commander';
import { TweetpipeError } from '../../errors.ts';
import { haFailover, NAMENODE_IDS, type NamenodeId } from '../../stack/hdfs-ha.ts';
import { kerberosDown, kerberosStatus, kerberosUp } from '../../stack/kerberos-stack.ts';
import { stackPaths } from '../../stack/paths.ts';
import { endpoints, stackDown, stackLogs, stackStatus, stackUp } from '../../stack/stack.ts';
import { addConfigOption, addStackOptions, configFromFlags, EXIT_RUNTIME } from '../common.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

export function registerStack(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'a local single-node Kafka (KRaft) + HDFS (NameNode + DataNode), fetched from Maven Central',
    );

  addStackOptions(addConfigOption(stack.command('up')))
    .description('start Kafka and HDFS (idempotent: says so when already healthy) and wait until both answer')
    .option(
      '--hive',
      'also a Hive Metastore 3.1.3 (Derby, warehouse on this HDFS) on stack.metastorePort (9083)',
    )
    .option(
      '--secure',
      'also a SASL_SSL listener (SCRAM-SHA-256/512 and PLAIN users) and an SSL listener requiring client ' +
        "certificates, from a CA made on first use, with ACLs; users' settings in <stack home>/secure/clients.json",
    )
    .option(
      '--kerberos',
      'also a private MIT Kerberos KDC (localhost:8800), a Kerberized HDFS (NameNode https://localhost:9871, ' +
        'rpc 9010) and a broker with a SASL_PLAINTEXT GSSAPI listener (localhost:9096), beside the plain ones; ' +
        'client settings in <stack home>/kerberos/client.json',
    )
    .option(
      '--ha',
      'HDFS as an HA pair: NameNodes nn1 (stack.namenodeRpcPort / webhdfsPort) and nn2 (stack.standbyNamenodeRpcPort / ' +
        'standbyWebhdfsPort) sharing edits in a local directory, nn1 active, the DataNode registered with both, ' +
        'and an HttpFS gateway on stack.httpfsPort (14000); see `stack failover`',
    )
    .action(async (opts) => {
      const config = configFromFlags(opts);
      const result = await stackUp(config, say, {
        hive: Boolean(opts.hive),
        secure: Boolean(opts.secure),
        ha: Boolean(opts.ha),
      });
      if (!result.alreadyRunning)
        say(`stack healthy in ${result.seconds.toFixed(1)} s (started ${result.started.join(', ')})`);
      if (opts.kerberos) await kerberosUp(config, say);
      for (const line of endpoints(config)) say(`  ${line}`);
    });

  addStackOptions(addConfigOption(stack.command('failover')))
    .description(
      "with stack up --ha: make the standby NameNode active with Hadoop's `hdfs haadmin -failover` (the active one " +
        'is asked to step down, and fenced when it does not answer)',
    )
    .option('--to <namenode>', 'nn1 or nn2 (default: the one that is not active)')
    .action(async (opts) => {
      const to = opts.to as string | undefined;
      if (to !== undefined && !NAMENODE_IDS.includes(to as NamenodeId))
        throw new TweetpipeError('USAGE', `--to ${to}: expected nn1 or nn2`);
      const config = configFromFlags(opts);
      const result = await haFailover(config, stackPaths(config), to as NamenodeId | undefined);
      if (result.output) say(result.output);
      say(`${result.to} is the active NameNode`);
    });

  addStackOptions(addConfigOption(stack.command('down')))
    .description(
      'stop the servers (SIGTERM, wait, then SIGKILL) and check their ports are free; data is kept',
    )
    .action(async (opts) => {
      const config = configFromFlags(opts);
      await kerberosDown(config, say);
      await stackDown(config, say);
    });

  addStackOptions(addConfigOption(stack.command('status')))
    .description('exit 0 only when Kafka answers a metadata request and WebHDFS answers LISTSTATUS')
    .action(async (opts) => {
      const config = configFromFlags(opts);
      const status = await stackStatus(config);
      for (const s of status.servers)
        say(`${s.name.padEnd(9)} ${s.pid ? `running, pid ${s.pid}` : 'not running'}  (log ${s.log})`);
      say(`kafka     ${status.kafka.ok ? 'healthy' : 'UNHEALTHY'}: ${status.kafka.detail}`);
      say(`hdfs      ${status.hdfs.ok ? 'healthy' : 'UNHEALTHY'}: ${status.hdfs.detail}`);
      // The Kerberized stack runs beside the plain one, by choice: it is shown, and does not set the exit code.
      const kerberos = await kerberosStatus(config);
      if (kerberos) {
        for (const s of kerberos.servers)
          say(
            `kerberos ${s.name.padEnd(9)} ${s.pid ? `running, pid ${s.pid}` : 'not running'}  (log ${s.log})`,
          );
        say(`kerberos  ${kerberos.health.ok ? 'healthy' : 'UNHEALTHY'}: ${kerberos.health.detail}`);
        say(`  Kerberos client settings ${kerberos.clientFile} (stack up --kerberos)`);
      }
      for (const line of endpoints(config)) say(`  ${line}`);
      if (!status.healthy) process.exitCode = EXIT_RUNTIME;
    });

  addStackOptions(addConfigOption(stack.command('logs')))
    .description('show the server logs')
    .argument(
      '[server]',
      'kafka, namenode or datanode; with stack up --ha also namenode2, httpfs (default: all)',
    )
    .option('-n, --lines <n>', 'lines from the end of each log', '50')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .action(async (server: string | undefined, opts) => {
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      await stackLogs(
        configFromFlags(opts),
        {
          ...(server ? { server } : {}),
          lines: Number(opts.lines),
          follow: Boolean(opts.follow),
          signal: controller.signal,
        },
        (text) => process.stdout.write(text),
      );
    });
}
