"""Node types, one small module per type or family. Importing this package registers them all."""

from . import (  # noqa: F401
    actions,
    arithmetic,
    compare,
    const,
    debounce,
    delta,
    ewma,
    field,
    hysteresis,
    in_set,
    logic,
    model,
    source,
    window,
)
