"""manage.py import_boundaries FILE: grid, village and town boundaries from GeoJSON, KML or a zipped shapefile."""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core import geodesy
from wangge.core.errors import WanggeError
from wangge.registry.boundaries import AUTO, ENCODINGS, boundary_import
from wangge.registry.models import Area, Level


class Command(BaseCommand):
    help = (
        "Import area boundaries matched by code; nothing is written while any feature is wrong. "
        "Areas of the file's levels that it leaves out lose their old boundary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=".geojson/.json, .kml/.kmz, or a .zip holding one shapefile")
        parser.add_argument("--city", help="code of the city (default: the only city)")
        parser.add_argument("--code-field", default="code", help="the attribute holding the area code (default: code)")
        parser.add_argument(
            "--datum", default=AUTO, choices=[AUTO, *geodesy.DATUMS], help="the file's datum (default: from the file)"
        )
        parser.add_argument(
            "--encoding", default=AUTO, choices=[AUTO, *ENCODINGS], help="shapefile text (default: .cpg, else UTF-8)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report only")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if not os.path.exists(path):
            raise CommandError(f"no such file: {path}")
        if os.path.getsize(path) > settings.BOUNDARY_IMPORT_MAX_BYTES:
            raise CommandError(
                f"文件过大 / the file is larger than BOUNDARY_IMPORT_MAX_BYTES "
                f"({settings.BOUNDARY_IMPORT_MAX_BYTES // (1024 * 1024)} MB)"
            )
        cities = Area.objects.filter(level=Level.CITY)
        if options["city"]:
            cities = cities.filter(code=options["city"])
        if cities.count() != 1:
            raise CommandError("name the city with --city CODE")
        started = time.monotonic()
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            plan = boundary_import(
                data=data,
                filename=os.path.basename(path),
                root=cities.get(),
                code_field=options["code_field"],
                datum=options["datum"],
                encoding=options["encoding"],
                preview=options["dry_run"],
            )
        except WanggeError as exc:
            for problem in exc.problems[:200]:
                self.stderr.write(str(problem))
            if len(exc.problems) > 200:
                self.stderr.write(f"… {len(exc.problems) - 200} more")
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        for warning in plan.warnings[:50]:
            self.stdout.write("注意 / note: " + str(warning))
        for problem in plan.problems[:200]:
            self.stderr.write(str(problem))
        levels = ", ".join(f"{level} {n}" for level, n in plan.by_level())
        self.stdout.write(
            f"{plan.features} features ({plan.format}, {plan.source_datum} → {plan.datum}): {levels}; "
            f"{len(plan.cleared)} old boundaries cleared; {len(plan.warnings)} gaps; {len(plan.problems)} problems; "
            f"{'written' if plan.written else 'nothing written'} in {elapsed:.1f} s"
        )
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} features are wrong")
