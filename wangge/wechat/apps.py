from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WeChatConfig(AppConfig):
    """The county's WeChat official account (公众号): residents report and are told there."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "wangge.wechat"
    label = "wechat"
    verbose_name = _("WeChat official account")
