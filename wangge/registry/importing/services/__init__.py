"""Bulk import of households from the spreadsheets counties keep: validate every row, then write.

The one bulk path that may bypass `household_create`; it keeps the same rules in bulk:

- the cleaning of `core.phones.clean_phone` and of `registry.services` (`clean_id_number`, `household_key`);
- a micro-grid holds at most GRID_HARD_MAX households, counting the households already there,
  those the file moves away or in, and the file's new rows (every row beyond the limit is named);
- a household is identified by `household_key`, so re-importing a file changes nothing and a
  changed row updates (or moves) its household instead of adding a second one;
- nothing is written while any row is bad, unless the caller keeps the good rows; all writes
  happen in one transaction, and the counts are recomputed once by `registry_recount()`.

Validation runs outside the write transaction, because SQLite's IMMEDIATE transactions take the
database's single write lock at BEGIN and a city-sized file takes seconds to check. The write
transaction then compares a fingerprint of the city's areas and households with the one the
plan was made from, and plans again if anyone wrote in between.

Speed: the file is read once; areas, people and existing households are each loaded with one
query into dicts; rows are inserted with the driver's `executemany` (COPY on PostgreSQL), because
Django's `bulk_create` on SQLite is capped at 999 parameters per statement and runs eight times
slower than the database can take rows (measured in bench/bench_import.py); changed households are
updated on PostgreSQL by one UPDATE from a temporary table filled by COPY. ID numbers are encrypted a
batch at a time (`core.masking.encrypt_many`, AES-GCM) and hashed with the key taken in once
(`lookup_hasher`); cells that repeat (household size, care tags) are cleaned once per distinct value and
looked up inline; new branches and grids are inserted with their household counts, so the recount only
changes the areas above them.

Where the time goes (419,200 households): reading is calamine's parse and the extent scan before it,
neither per row; checking is Python per row (a row's cells, the ID checksum and its HMAC, the key); the
write is the database's own (index upkeep). Checking is not overlapped with writing: the write
transaction opens after the plan, see above.

Modules: `tree` (the city's areas in memory), `cells` (one cell cleaned), `plan` (every row checked
and sorted), `bulk` (the SQL: COPY, executemany, the set-based UPDATE), `write` (the write transaction
and `registry_import`).
"""

from wangge.registry.importing.services.plan import ProgressFn
from wangge.registry.importing.services.write import ImportResult, problem_dict, registry_import

__all__ = ["ImportResult", "ProgressFn", "problem_dict", "registry_import"]
