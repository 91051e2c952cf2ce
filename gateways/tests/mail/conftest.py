PLUGIN = "gateways.testing.mailservers"


def pytest_configure(config):
    # The root conftest may load the plugin for every app; load it here only when it has not.
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
