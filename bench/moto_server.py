#!/usr/bin/env python3
"""moto_server for the long bench runs: the same server, with a cheaper transaction rollback.

moto 5 deep-copies every table a TransactWriteItems names before applying it, so that it can put
the copy back if the transaction is cancelled. On a table of a few thousand items each
transaction then costs a copy of the table, and the copies (full of reference cycles) wait for
Python's cyclic collector: a long bench run grew the server by about 1.5 GB a minute until the
OOM killer stopped it. Here the rollback keeps a copy of only the items the transaction names,
which is all a cancelled transaction can have changed. Everything else is moto's own code.

Used by scripts/bench (MOTO_SERVER); the test suite runs the stock moto_server.
"""

import copy
import sys

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.server import main


class _NoTableCopy:
    """The `copy` module as moto's DynamoDB backend sees it, minus the whole-table copy."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value  # the rollback below restores the named items instead
        return copy.deepcopy(value, memo)


def _named_keys(backend, transact_items):
    """(table, hash key, range key) of every item a transaction names."""
    keys = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") if op_type == "Put" else op.get("Key")
            if not key or table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in key:
                    continue
                range_key = DynamoType(key[table.range_key_attr])
            keys.append((table, hash_key, range_key))
    return keys


def _restore(table, hash_key, range_key, saved):
    if range_key is not None:
        items = table.items[hash_key]
        if saved is None:
            items.pop(range_key, None)
        else:
            items[range_key] = saved
    elif saved is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = saved


_stock_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    saved = []
    for table, hash_key, range_key in _named_keys(self, transact_items):
        try:
            item = table.get_item(hash_key, range_key)
        except Exception:  # a malformed key: moto's own code answers it below
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(item)))
    try:
        return _stock_transact_write_items(self, transact_items)
    except BaseException:
        for table, hash_key, range_key, item in reversed(saved):
            _restore(table, hash_key, range_key, item)
        raise


dynamodb_models.copy = _NoTableCopy()
DynamoDBBackend.transact_write_items = _transact_write_items

if __name__ == "__main__":
    sys.exit(main())
