from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "wangge.governance"
    label = "governance"
    verbose_name = "每月一题 Governance topics"
