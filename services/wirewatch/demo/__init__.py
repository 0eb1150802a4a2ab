"""Offline demo news site used by ``make demo`` and the integration tests.

See ``wirewatch.demo.site.DemoSite``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .site import DemoSite

__all__ = ["DemoSite"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m wirewatch.demo.site`` does not import the
    # module twice (runpy warns when the package already imported it).
    if name == "DemoSite":
        from .site import DemoSite

        return DemoSite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
