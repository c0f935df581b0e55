"""Prints every key of a topic, one per line, read from the beginning with confluent-kafka (librdkafka).

Usage: read_keys.py SETTINGS_JSON TOPIC COUNT, where SETTINGS_JSON is one user's entry of clients.json (tweetpipe's
kafka settings), mapped here to librdkafka's names. Stops once COUNT records were read, or after 60 s.
"""
import json
import sys
import time
import uuid

from confluent_kafka import Consumer

settings = json.loads(sys.argv[1])
topic, count = sys.argv[2], int(sys.argv[3])
conf = {
    "bootstrap.servers": ",".join(settings["brokers"]),
    "security.protocol": settings["securityProtocol"],
    "group.id": f"twitter_data-python-{uuid.uuid4()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
}
tls = settings.get("tls", {})
if "ca" in tls:
    conf["ssl.ca.location"] = tls["ca"]
if "cert" in tls:
    conf["ssl.certificate.location"] = tls["cert"]
    conf["ssl.key.location"] = tls["key"]
sasl = settings.get("sasl")
if sasl:
    conf["sasl.mechanism"] = sasl["mechanism"]
    conf["sasl.username"] = sasl["username"]
    with open(sasl["passwordFile"], encoding="utf-8") as f:
        conf["sasl.password"] = f.read().rstrip("\n")

consumer = Consumer(conf)
consumer.subscribe([topic])
keys = []
deadline = time.monotonic() + 60
while len(keys) < count and time.monotonic() < deadline:
    msg = consumer.poll(1.0)
    if msg is None:
        continue
    if msg.error():
        sys.exit(f"consume error: {msg.error()}")
    keys.append(msg.key().decode("utf-8"))
consumer.close()
print("\n".join(keys))
