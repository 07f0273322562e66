#!/usr/bin/env python3
"""Compares stock moto_server with bench/moto_server.py on the same transactions.

Usage: .venv/bin/python bench/moto_rollback_check.py [TRANSACTIONS]   (default 500)

Each server gets TRANSACTIONS TransactWriteItems of three Puts (a conditional one and two
unconditional, about 1.5 KB), with the time and the server's RSS every 500; then a transaction
whose third item fails its condition, after which the first two items must be as before (an
update undone, a new item absent). Both servers must answer alike; exits 1 if not.
"""

import os
import socket
import subprocess
import sys
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) // 1024


def run(label, command, transactions):
    port = free_port()
    server = subprocess.Popen(
        command + ["-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        db = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        for _ in range(100):
            try:
                db.list_tables()
                break
            except Exception:
                time.sleep(0.1)
        db.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        started = time.time()
        for i in range(transactions):
            db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"p{i}"}, "sk": {"S": "r"}, "v": {"N": "1"}, "blob": {"S": "x" * 500}}, "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"p{i}"}, "sk": {"S": "e1"}, "blob": {"S": "y" * 500}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"p{i}"}, "sk": {"S": "e2"}, "blob": {"S": "y" * 500}}}},
                ]
            )
            if (i + 1) % 500 == 0 or i + 1 == transactions:
                print(f"{label}: {i + 1} transactions in {time.time() - started:.1f} s, "
                      f"server RSS {rss_mb(server.pid)} MB", flush=True)
        db.put_item(TableName="t", Item={"pk": {"S": "z"}, "sk": {"S": "r"}, "v": {"N": "1"}})
        try:
            db.transact_write_items(
                TransactItems=[
                    {"Update": {"TableName": "t", "Key": {"pk": {"S": "z"}, "sk": {"S": "r"}}, "UpdateExpression": "SET v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}, "sk": {"S": "r"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "p0"}, "sk": {"S": "r"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
            cancelled = None
        except db.exceptions.TransactionCanceledException as e:
            cancelled = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
        get = lambda pk: db.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": "r"}}, ConsistentRead=True).get("Item")
        after = (cancelled, get("z"), get("new"), get("p0")["v"])
        print(f"{label}: cancelled {cancelled}; z = {after[1]}; new = {after[2]}")
        return after
    finally:
        server.kill()
        server.wait()


def main():
    transactions = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    stock = run("stock moto", [os.path.join(VENV_BIN, "moto_server")], transactions)
    bench = run("per-item rollback", [sys.executable, os.path.join(HERE, "moto_server.py")], transactions)
    if stock != bench or stock[0] != ["None", "None", "ConditionalCheckFailed"]:
        print("DIFFERENT", file=sys.stderr)
        sys.exit(1)
    print("same answers")


if __name__ == "__main__":
    main()
