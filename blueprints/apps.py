from django.apps import AppConfig


class BlueprintsConfig(AppConfig):
    name = "blueprints"
    verbose_name = "AIoT Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The OpenAPI authentication extensions register themselves on import.
        from .api import schema  # noqa: F401
