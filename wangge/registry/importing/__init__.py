"""Registry import from county spreadsheets: reading, checking, writing, jobs and the template.

`registry_import` is the bulk service (also run inline by `manage.py import_registry FILE`);
`import_job_create` queues an uploaded file, and the worker hook `import_jobs_run` claims and runs it.
"""

from wangge.registry.importing.jobs import import_job_create, import_jobs_run, import_jobs_sweep
from wangge.registry.importing.services import ImportResult, registry_import

__all__ = ["ImportResult", "import_job_create", "import_jobs_run", "import_jobs_sweep", "registry_import"]
