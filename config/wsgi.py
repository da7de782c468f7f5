import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn imports this module and never runs `manage.py check`: refuse DEBUG=0 without a SECRET_KEY here.
from wangge.core.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
