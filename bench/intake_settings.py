"""Settings of the gunicorn that `bench_intake.py` starts: the project's, with bench/intake_urls.py as urlconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_urls"
