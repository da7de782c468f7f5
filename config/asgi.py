import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# An ASGI server imports this module and never runs `manage.py check`: refuse DEBUG=0 without a SECRET_KEY here.
from wangge.core.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()

# Load what requests must never load themselves (the triage models) before the first request:
# settings.WANGGE_STARTUP_HOOKS, run here and not in AppConfig.ready, so migrate and tests skip it.
from wangge.core.hooks import run_startup_hooks  # noqa: E402

run_startup_hooks()
