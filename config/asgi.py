import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# An ASGI server imports this module and never runs `manage.py check`: refuse DEBUG=0 without a SECRET_KEY here.
from wangge.core.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
