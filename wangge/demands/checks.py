"""System check wangge.W020: on PostgreSQL the demands' history should be partitioned by month.

Migration demands 0016 partitions the tables when they are empty; a database that already held rows
is not rewritten inside `migrate`, and this check names the command that converts it. Quiet on SQLite
and before the first `migrate` (see wangge/holidays/checks.py for why it is not tagged `database`).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def check_history_partitioned(app_configs: Any, **kwargs: Any) -> list[Warning]:
    from wangge.demands.partitioning.convert import unpartitioned_tables

    try:
        tables = unpartitioned_tables()
    except DatabaseError:
        return []
    if not tables:
        return []
    names = ", ".join(tables)
    return [
        Warning(
            f"诉求历史尚未按月分区：{names} / the demands' history is not partitioned by month: {names}",
            hint="Stop the web and worker processes, back up, then run manage.py partition_history --convert "
            "(see docs/scaling.md, 'Partitions'). 停止网站和后台任务并备份后运行该命令。",
            id="wangge.W020",
        )
    ]
