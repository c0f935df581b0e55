"""
The naive Kafka -> HDFS sink that tweetpipe replaces, kept as a benchmark baseline (run by bench/python-baseline.ts).

It does what the original design did: a kafka-python consumer with auto-commit, tweets parsed and buffered, and
every 50 tweets one file written through the `hdfs` package's WebHDFS client, named by the current second. Two
batches in the same second get the same name and the second overwrites the first: that is the original design's
behaviour, so it is kept and the overwritten batches are counted rather than hidden.

It stops after --max-records records or --max-seconds seconds, whichever comes first, and prints one JSON line:
records consumed and written, files, batches lost to overwrites, and the seconds from the first record received to
the last file written.
"""
import argparse
import json
import sys
import time
from datetime import datetime

from hdfs import InsecureClient
from kafka import KafkaConsumer

BATCH = 50


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--webhdfs", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--max-records", type=int, required=True)
    p.add_argument("--max-seconds", type=float, required=True)
    args = p.parse_args()

    client = InsecureClient(args.webhdfs, user=args.user)
    client.makedirs(args.dir)
    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.brokers.split(","),
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
        consumer_timeout_ms=10_000,
    )

    batch = []
    consumed = written = batches = 0
    names = set()
    first = last = None
    started = time.monotonic()
    for message in consumer:
        if first is None:
            first = time.monotonic()
        batch.append(json.loads(message.value))
        consumed += 1
        if len(batch) == BATCH:
            name = f"{args.dir}/tweets_{datetime.now().strftime('%Y%m%d_%H%M%S')}.json"
            # Bytes, not str + encoding=: for a str the `hdfs` package sends one character per socket write.
            data = "\n".join(json.dumps(t) for t in batch).encode("utf-8")
            client.write(name, data=data, overwrite=True)
            written += len(batch)
            batches += 1
            names.add(name)
            batch = []
            last = time.monotonic()
        if consumed >= args.max_records or time.monotonic() - started >= args.max_seconds:
            break
    consumer.close()

    seconds = (last - first) if first is not None and last is not None else 0.0
    json.dump(
        {
            "consumed": consumed,
            "written": written,
            "files": len(names),
            "batchesOverwritten": batches - len(names),
            "seconds": seconds,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
