from django.apps import AppConfig


class GatewaysConfig(AppConfig):
    name = "gateways"
    verbose_name = "Gateways"

    def ready(self):
        # Importing the package registers every adapter (@register) in gateways.capabilities' registry,
        # once, before any request, task or command asks the registry.
        from gateways import adapters  # noqa: F401
