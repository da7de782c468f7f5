"""The official account's custom menu (自定义菜单): WANGGE_WECHAT_MENU, else report and look up."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import ValidationFailed
from wangge.core.links import public_url


def menu() -> dict[str, Any]:
    """The menu as WeChat's `/cgi-bin/menu/create` takes it; a configured one must hold a non-empty `button` list."""
    configured = str(getattr(settings, "WANGGE_WECHAT_MENU", "") or "").strip()
    if configured:
        try:
            data = json.loads(configured)
        except ValueError as exc:
            raise ValidationFailed(_("WANGGE_WECHAT_MENU is not valid JSON"), field="WANGGE_WECHAT_MENU") from exc
        if not isinstance(data, dict) or not isinstance(data.get("button"), list) or not data["button"]:
            raise ValidationFailed(_("WANGGE_WECHAT_MENU needs a non-empty button list"), field="WANGGE_WECHAT_MENU")
        return data
    with translation.override("zh-hans"):
        return {
            "button": [
                {
                    "type": "view",
                    "name": str(pgettext_lazy("wechat menu", "Report a problem")),
                    "url": public_url(reverse("demands:report")),
                },
                {
                    "type": "view",
                    "name": str(pgettext_lazy("wechat menu", "Find my demand")),
                    "url": public_url(reverse("demands:lookup")),
                },
            ]
        }
