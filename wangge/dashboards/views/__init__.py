"""Pages of the dashboards app: everyone's landing page (core:home), the service-centre console,
the command dashboard (desk and 大屏), the ranking, reports and exports, and the public open-government figures.

Views read through `selectors` (scoped by the acting user) and write only through services: the
dashboards' own (exports, the log of unmasked data, the batch dispatch) and the demand services
(a live reply is a public `demand_comment`). Moves on one demand stay on the demand's own page.

The package's modules: `home` (the landing page), `console` (the service-centre console), `figures` (the
dashboard, 大屏, map data, ranking, reports, the public figures) and `exports` (export jobs). urls.py and
settings.WANGGE_HOME_VIEW name the views through this package.
"""

from wangge.dashboards.views.console import (
    console,
    console_comments,
    console_demand,
    console_reply,
)
from wangge.dashboards.views.exports import export_detail, export_download, export_list
from wangge.dashboards.views.figures import (
    dashboard,
    map_data,
    public,
    ranking,
    report,
    report_xlsx,
    screen,
)
from wangge.dashboards.views.home import home

__all__ = [
    "console",
    "console_comments",
    "console_demand",
    "console_reply",
    "dashboard",
    "export_detail",
    "export_download",
    "export_list",
    "home",
    "map_data",
    "public",
    "ranking",
    "report",
    "report_xlsx",
    "screen",
]
