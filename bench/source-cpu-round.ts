/**
 * One round of a source read to its end, in process, no Kafka: CPU per tweet of all threads (process.cpuUsage)
 * and of the main thread (what the produce loop's thread pays), and tweets/s. For the source benches that alternate
 * a base and a branch checkout (synthetic-source-cpu.ts, replay-source-cpu.ts), which load `EndOfInput` from the
 * checkout they measure.
 */

interface MeasuredSource {
  connect(signal: AbortSignal): Promise<void>;
  read(signal: AbortSignal): Promise<{ tweets: { value: Uint8Array }[] }>;
  close(): Promise<void>;
}

export async function sourceCpuRound(
  label: string,
  source: MeasuredSource,
  endOfInput: abstract new (...args: never[]) => Error,
): Promise<void> {
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const t0 = performance.now();
  const signal = new AbortController().signal;
  await source.connect(signal);
  let n = 0;
  let bytes = 0;
  for (;;) {
    try {
      const batch = await source.read(signal);
      n += batch.tweets.length;
      for (const t of batch.tweets) bytes += t.value.length;
    } catch (err) {
      if (err instanceof endOfInput) break;
      throw err;
    }
  }
  await source.close();
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const s = (performance.now() - t0) / 1000;
  const perTweet = (us: number) => (us / n).toFixed(1);
  console.log(
    `${label}: ${n} tweets, ${bytes} bytes, ${perTweet(cpu.user + cpu.system)} us CPU/tweet (main thread ${perTweet(main.user + main.system)}), ${(n / s).toFixed(0)} tweets/s`,
  );
}
