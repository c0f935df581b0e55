"""Reads tweetpipe's output with PySpark, an engine independent of tweetpipe, and prints what it saw as JSON.

One Spark session (local, Hive support through Spark's bundled Hive client, hive.metastore.uris from the spec)
runs every read of the spec, because a session costs seconds to start. Each read is one of:
  table: a table as the metastore holds it (registered by sink.hive, never repaired here);
  path:  the output directory read directly by hdfs:// path, FAILFAST (a record Spark cannot parse fails the read);
  ddl:   the statements `tweetpipe table ddl --engine spark` printed, run first, then that table read.
For each it reports rows, distinct ids, rows without id or created_at, rows whose dt/hour disagree with
created_at in UTC, and the partitions Spark sees. A failing read is reported with its error, not raised, so the
test names every read that failed.

Usage: python spark-read.py SPEC.json   (SPEC: {"metastoreUri", "warehouseDir", "reads": [...]})
"""

import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def session(spec):
    return (
        SparkSession.builder.master("local[2]")
        .appName("tweetpipe-spark-read")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", spec["warehouseDir"])
        .config("spark.hadoop.hive.metastore.uris", spec["metastoreUri"])
        # Partition values as the directories spell them (hour=06 stays '06'), as the tables declare them.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "2")
        .enableHiveSupport()
        .getOrCreate()
    )


def summary(df, partitions):
    created = F.to_timestamp(F.col("created_at"))
    row = df.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("id").alias("distinctIds"),
        F.sum(F.when(F.col("id").isNull() | created.isNull(), 1).otherwise(0)).alias("incomplete"),
        F.sum(
            F.when(
                (F.date_format(created, "yyyy-MM-dd") != F.col("dt"))
                | (F.date_format(created, "HH") != F.col("hour")),
                1,
            ).otherwise(0)
        ).alias("misplaced"),
    ).collect()[0]
    return {
        "rows": row["rows"],
        "distinctIds": row["distinctIds"],
        "incomplete": row["incomplete"] or 0,
        "misplaced": row["misplaced"] or 0,
        "partitions": sorted(partitions),
    }


def table_partitions(spark, table):
    return [r[0] for r in spark.sql(f"SHOW PARTITIONS {table}").collect()]


def read(spark, r):
    if r["kind"] == "table":
        return summary(spark.table(r["table"]), table_partitions(spark, r["table"]))
    if r["kind"] == "ddl":
        for statement in r["statements"]:
            spark.sql(statement)
        return summary(spark.table(r["table"]), table_partitions(spark, r["table"]))
    df = spark.read.format(r["format"]).option("mode", "FAILFAST").load(r["path"])
    dirs = [f"dt={x['dt']}/hour={x['hour']}" for x in df.select("dt", "hour").distinct().collect()]
    return summary(df, dirs)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    spark = session(spec)
    spark.sparkContext.setLogLevel("ERROR")
    out = {"sparkVersion": spark.version, "reads": {}}
    for r in spec["reads"]:
        try:
            out["reads"][r["name"]] = read(spark, r)
        except Exception as err:  # noqa: BLE001 - reported per read, the test names it
            out["reads"][r["name"]] = {"error": f"{type(err).__name__}: {str(err)[:2000]}"}
    spark.stop()
    print("SPARK-READ-RESULT " + json.dumps(out))


main()
