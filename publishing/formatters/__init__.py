"""Channel formatters, one module per channel kind; importing the package registers them all."""

import importlib
import pkgutil

from publishing.formatters.base import ChannelFormatter, VersionDraft, markdown_to_text, register, registered

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def formatter_for(kind: str) -> ChannelFormatter:
    try:
        return registered()[kind]()
    except KeyError:
        raise LookupError(f"No formatter for channel kind {kind!r}; known: {', '.join(sorted(registered()))}")


def kind_choices() -> list[tuple[str, str]]:
    return sorted(((key, cls.label) for key, cls in registered().items()), key=lambda pair: pair[1])


__all__ = ["ChannelFormatter", "VersionDraft", "formatter_for", "kind_choices", "markdown_to_text", "register"]
