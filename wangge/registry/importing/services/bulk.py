"""The set-based SQL of the import's write stage: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Max


def _columns(model: Any, names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(n).column for n in names]


def _insert(model: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows the fastest way the database takes them: COPY on PostgreSQL, else executemany."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(rows) if not isinstance(rows, list) else rows
            )


def _insert_batches(model: Any, names: Sequence[str], batches: Iterator[list[tuple[Any, ...]]]) -> None:
    """Insert batches while the next one is being built (encrypted).

    On SQLite a second thread runs executemany on the same connection (Django opens it with
    check_same_thread=False) while this thread only builds rows and never touches the
    connection: sqlite3 releases the GIL inside each step, so the B-tree work and the AES-GCM
    encryption overlap on two cores. PostgreSQL's COPY already writes from a worker thread.
    """
    if connection.vendor == "postgresql":
        # One COPY for all batches: psycopg sends from its own thread while the rows are built.
        _insert(model, names, (row for batch in batches for row in batch))
        return
    if connection.vendor != "sqlite":
        for batch in batches:
            _insert(model, names, batch)
        return
    connection.ensure_connection()
    raw = connection.connection
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['?'] * len(names))})"
    todo: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer() -> None:
        while True:
            batch = todo.get()
            if batch is None:
                return
            if failed:
                continue  # drain, so the producer never blocks
            try:
                raw.executemany(sql, batch)
            except BaseException as exc:  # re-raised in the caller's thread below
                failed.append(exc)

    thread = threading.Thread(target=writer, name="import-writer", daemon=True)
    thread.start()
    try:
        for batch in batches:
            if failed:
                break
            todo.put(batch)
    finally:
        todo.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _update(model: Any, names: Sequence[str], rows: Sequence[Sequence[Any]], *, also: str = "") -> None:
    """UPDATE ... WHERE id = the last value of each row; `also` is more of the SET clause, as SQL.

    On PostgreSQL the rows are COPYed into a temporary table and applied by one UPDATE ... FROM it
    (executemany sends one UPDATE a row); elsewhere executemany.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = [qn(c) for c in _columns(model, names)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE import_update ON COMMIT DROP AS SELECT {', '.join(cols)}, id FROM {table} "
                "WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY import_update ({', '.join(cols)}, id) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            sets = ", ".join([*(f"{c} = u.{c}" for c in cols), *([also] if also else [])])
            cursor.execute(f"UPDATE {table} AS t SET {sets} FROM import_update AS u WHERE t.id = u.id")
            cursor.execute("DROP TABLE import_update")
            return
        sets = ", ".join([*(f"{c} = %s" for c in cols), *([also] if also else [])])
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


def _ids_after(model: Any, last_id: int, key: str) -> dict[Any, int]:
    return {k: i for i, k in model.objects.filter(id__gt=last_id).values_list("id", key)}


def _max_id(model: Any) -> int:
    return model.objects.aggregate(m=Max("id"))["m"] or 0
