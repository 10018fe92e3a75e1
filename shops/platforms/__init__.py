"""The platforms a store can run on: one module each, registered here by its key.

A fourth platform is one module: a `Platform` subclass (shops.platforms.base) that verifies
and reads its webhooks and pages through its orders, listed in PLATFORM_MODULES.
"""
from importlib import import_module

from .base import Platform

# Modules that define and register a platform (`register(...)` at import).
PLATFORM_MODULES: tuple[str, ...] = (
    "shops.platforms.woocommerce",
    "shops.platforms.shopify",
    "shops.platforms.ideasoft",
)

_PLATFORMS: dict[str, Platform] = {}
_loaded = False


def register(platform: Platform) -> Platform:
    _PLATFORMS[platform.key] = platform
    return platform


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in PLATFORM_MODULES:
        try:
            import_module(module)
        except ModuleNotFoundError as error:  # a platform not written yet
            if error.name != module:
                raise
    _loaded = True


def platforms() -> dict[str, Platform]:
    """Every registered platform by key."""
    _load()
    return dict(_PLATFORMS)


def platform_for(key: str) -> Platform:
    """The platform with this key; KeyError when there is none."""
    _load()
    return _PLATFORMS[key]


def platform_choices() -> list[tuple[str, str]]:
    return [(key, str(platform.label)) for key, platform in sorted(platforms().items())]
