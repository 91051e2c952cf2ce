"""The gateways module email uses, resolved at call time so tests and benches can point elsewhere."""

from importlib import import_module

from publishing.email import conf


def email_gateway():
    return import_module(conf.gateway_module())
