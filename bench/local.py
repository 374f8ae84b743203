"""Local runtime budgets (issue 6): durable messages/s through queue -> handler -> table, against the
same flow over moto's SQS + DynamoDB in the same run, and latency from an HTTP POST accepted to the
table write.

    .venv/bin/python -m bench.local            # all three
    .venv/bin/python -m bench.local --n 5000   # more messages

* local:  ``LocalCloud.send`` N messages (each committed to SQLite before it returns: accepted =
  durable) while the runtime drains them through ``store`` (batch 10) into a SQLite table.
* moto:   the same app, the same handler, through the AWS adapter: ``send_message`` N messages to
  moto's SQS (in-process ``mock_aws``), then a Lambda-style poller receives batches of 10, hands
  them to ``portside.aws.Runtime`` as the SQS event Lambda would, which writes DynamoDB (moto) and
  reports batch item failures; the poller deletes what succeeded.
* latency: 2 clients POST /jobs on keep-alive connections; the route stamps ``accepted_at`` and
  queues the job (the 202 follows the commit); the handler stamps ``written_at`` as it writes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import threading
import time

from portside import App, HttpRequest, HttpResponse, Message

app = App("bench-local")
api = app.api("public")
jobs = app.queue("bench-jobs")
results = app.table("results")
app.function("bench.local:accept", trigger=api.route("POST /jobs"), uses=[jobs.sender])
app.function("bench.local:store", trigger=jobs.on_message(batch_size=10), uses=[results.writer])


def accept(request: HttpRequest) -> HttpResponse:
    job = request.json()
    job["accepted_at"] = time.time()
    jobs.send(job)
    return HttpResponse(202)


def store(message: Message) -> None:
    job = message.json()
    results.put({"id": job["id"], "n": job.get("n"), "accepted_at": job.get("accepted_at"),
                 "written_at": time.time()})


def local_throughput(n: int, workers: int) -> dict[str, float]:
    from portside.local import LocalCloud

    with tempfile.TemporaryDirectory() as d, LocalCloud(app, d, workers=workers).start(http=False) as cloud:
        t0 = time.perf_counter()
        for i in range(n):
            cloud.send("bench-jobs", {"id": f"m{i}", "n": i})
        sent = time.perf_counter() - t0
        cloud.wait_until_idle(120)
        total = time.perf_counter() - t0
        assert len(cloud.items("results")) == n, "a message was lost"
        # the drain alone: N messages already queued, runtime started afterwards
    with tempfile.TemporaryDirectory() as d:
        loader = LocalCloud(app, d)
        for i in range(n):
            loader.send("bench-jobs", {"id": f"m{i}", "n": i})
        loader.store.close()
        cloud = LocalCloud(app, d, workers=workers)
        t1 = time.perf_counter()
        cloud.start(http=False)
        cloud.wait_until_idle(120)
        drain = time.perf_counter() - t1
        assert len(cloud.items("results")) == n
        cloud.stop()
    return {"send_per_s": n / sent, "end_to_end_per_s": n / total, "drain_per_s": n / drain}


def moto_throughput(n: int) -> dict[str, float]:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")
    import boto3
    from moto import mock_aws

    from portside.aws import Names, Runtime
    from portside.aws.entry import AwsTarget

    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="bench-jobs")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        ddb.create_table(TableName="bench-results", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        names = Names({"bench-jobs": {"kind": "queue", "name": "bench-jobs", "url": url, "arn": arn},
                       "results": "bench-results"}, default_source="bench-jobs")
        fn = app.get_function("store")
        runtime = Runtime(app, fn, names, AwsTarget(names), None)
        t0 = time.perf_counter()
        for i in range(n):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": f"m{i}", "n": i}))
        sent = time.perf_counter() - t0
        done = 0
        while done < n:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                      MessageAttributeNames=["All"]).get("Messages", [])
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": m.get("Attributes", {}), "messageAttributes": {
                            k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
                            for k, v in m.get("MessageAttributes", {}).items()},
                        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
                        "awsRegion": "eu-west-1"} for m in got]
            if not records:
                continue
            failed = {f["itemIdentifier"] for f in runtime({"Records": records})["batchItemFailures"]}
            ok = [m for m in got if m["MessageId"] not in failed]
            if ok:
                sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                                for i, m in enumerate(ok)])
            done += len(ok)
        total = time.perf_counter() - t0
        count = ddb.scan(TableName="bench-results", Select="COUNT")["Count"]
        assert count == n, f"moto table has {count} of {n}"
    return {"send_per_s": n / sent, "end_to_end_per_s": n / total}


def latency(n: int, clients: int, workers: int) -> dict[str, float]:
    from portside.local import LocalCloud

    with tempfile.TemporaryDirectory() as d, LocalCloud(app, d, workers=workers).start(0) as cloud:
        host = cloud.url.removeprefix("http://")
        per = n // clients

        def post(k: int) -> None:
            conn = http.client.HTTPConnection(host, timeout=10)
            for i in range(per):
                conn.request("POST", "/jobs", body=json.dumps({"id": f"c{k}-{i}"}),
                             headers={"content-type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 202, resp.status
            conn.close()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=post, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cloud.wait_until_idle(120)
        elapsed = time.perf_counter() - t0
        items = cloud.items("results")
    assert len(items) == per * clients
    ms = sorted((i["written_at"] - i["accepted_at"]) * 1000 for i in items)
    q = statistics.quantiles(ms, n=100)
    return {"requests_per_s": len(items) / elapsed, "p50_ms": q[49], "p99_ms": q[98], "max_ms": ms[-1]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="messages through the local runtime")
    parser.add_argument("--moto-n", type=int, default=300, help="messages through moto (slower)")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("portside").setLevel(logging.WARNING)
    print(f"cpus: {os.cpu_count()}, workers: {args.workers}")
    local = local_throughput(args.n, args.workers)
    print(f"local  queue -> handler -> table, {args.n} msgs: send {local['send_per_s']:,.0f}/s, "
          f"send+deliver end to end {local['end_to_end_per_s']:,.0f}/s, drain of a backlog {local['drain_per_s']:,.0f}/s")
    os.environ["PORTSIDE_SYNC"] = "FULL"
    try:
        full = local_throughput(args.n // 2, args.workers)
    finally:
        del os.environ["PORTSIDE_SYNC"]
    print(f"local  with PORTSIDE_SYNC=FULL (an fsync per commit), {args.n // 2} msgs: "
          f"end to end {full['end_to_end_per_s']:,.0f}/s, drain {full['drain_per_s']:,.0f}/s")
    moto = moto_throughput(args.moto_n)
    print(f"moto   SQS -> portside.aws -> DynamoDB, {args.moto_n} msgs: send {moto['send_per_s']:,.0f}/s, "
          f"end to end {moto['end_to_end_per_s']:,.0f}/s")
    print(f"ratio  local / moto end to end: {local['end_to_end_per_s'] / moto['end_to_end_per_s']:.1f}x")
    lat = latency(min(args.n, 4000), 2, args.workers)
    print(f"HTTP POST accepted -> table write ({min(args.n, 4000)} POSTs, 2 clients, "
          f"{lat['requests_per_s']:,.0f} req/s): p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
          f"max {lat['max_ms']:.1f} ms")


if __name__ == "__main__":
    from bench.local import main as main_of_the_module  # the handlers' app, not a second one in __main__

    main_of_the_module()
