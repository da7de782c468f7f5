from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "wangge.projects"
    label = "projects"
    verbose_name = "民生实事 Livelihood projects"
