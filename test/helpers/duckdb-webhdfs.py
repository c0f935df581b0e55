"""Runs DuckDB DDL (from `tweetpipe table ddl --engine duckdb`) over webhdfs:// locations and prints what it saw.

DuckDB reads HDFS itself through an fsspec WebHDFS filesystem registered on the connection (random access by
WebHDFS offset/length), so the files are never copied locally. For each read: run its DDL, then report rows,
distinct ids, rows whose dt/hour disagree with created_at in UTC, and the partitions seen.

Usage: python duckdb-webhdfs.py SPEC.json   (SPEC: {"host", "port", "user", "reads": [{"name", "view", "ddl"}]})
"""

import json
import sys

import duckdb
from fsspec.implementations.webhdfs import WebHDFS


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register_filesystem(WebHDFS(host=spec["host"], port=spec["port"], user=spec["user"]))
    out = {"duckdbVersion": duckdb.__version__, "reads": {}}
    for r in spec["reads"]:
        try:
            con.execute(r["ddl"])
            view = '"' + r["view"].replace('"', '""') + '"'
            rows, distinct, misplaced = con.execute(
                f"""SELECT count(*), count(DISTINCT id),
                       count(*) FILTER (WHERE strftime(created_at, '%Y-%m-%d') <> dt
                                         OR strftime(created_at, '%H') <> hour)
                    FROM {view}"""
            ).fetchone()
            parts = [p for (p,) in con.execute(f"SELECT DISTINCT 'dt=' || dt || '/hour=' || hour FROM {view}").fetchall()]
            out["reads"][r["name"]] = {
                "rows": rows,
                "distinctIds": distinct,
                "misplaced": misplaced,
                "partitions": sorted(parts),
            }
        except Exception as e:  # reported per read so the test names every read that failed
            out["reads"][r["name"]] = {"error": f"{type(e).__name__}: {e}"}
    print("DUCKDB-WEBHDFS-RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
