"""The only writers of the dashboards app: rollups, export jobs, the log of unmasked personal data.

Dashboards read demands and never change them, with one exception that goes through the demand
services themselves: the console's batch dispatch, one `demand_dispatch` per demand, each in its
own transaction, so that one conflict never undoes the others.

The package's modules: `rollups` (the rollups and their facts, incremental; visits and opinions),
`jobs` (export jobs and the PII log), `console` (batch dispatch). Callers import the package:
every public name is re-exported here (the worker hooks name `wangge.dashboards.services.*`).
"""

from wangge.dashboards.services.console import BatchResult, demands_batch_dispatch
from wangge.dashboards.services.jobs import (
    FILTER_KEYS,
    export_job_create,
    export_job_run,
    export_jobs_run,
    export_path,
    may_unmask_exports,
    pii_access_log,
)
from wangge.dashboards.services.rollup_keys import ACTIVITY_LEVELS, CATEGORY_LEVELS, EPOCH
from wangge.dashboards.services.rollups import (
    RefreshReport,
    activity_refresh,
    rollup_rebuild,
    rollup_refresh,
    rollup_refresh_recent,
)

__all__ = [
    "ACTIVITY_LEVELS",
    "CATEGORY_LEVELS",
    "EPOCH",
    "FILTER_KEYS",
    "BatchResult",
    "RefreshReport",
    "activity_refresh",
    "demands_batch_dispatch",
    "export_job_create",
    "export_job_run",
    "export_jobs_run",
    "export_path",
    "may_unmask_exports",
    "pii_access_log",
    "rollup_rebuild",
    "rollup_refresh",
    "rollup_refresh_recent",
]
