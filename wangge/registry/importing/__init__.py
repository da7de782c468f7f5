"""Registry import from county spreadsheets: reading, checking, writing, jobs and the template.

`registry_import` is the bulk service; `import_job_create` / `import_job_start` / `import_job_run`
run it for an uploaded file in the background.
"""

from wangge.registry.importing.jobs import import_job_create, import_job_run, import_job_start
from wangge.registry.importing.services import ImportResult, registry_import

__all__ = ["ImportResult", "import_job_create", "import_job_run", "import_job_start", "registry_import"]
