"""The writes of the spatial package, one action per verb (see `accounts.oplog.action`).

Views, Celery tasks and management commands call these, never the services under them
(`spatial.layers.registry`, `.mapconfig`, `.jobs`): each checks the permission, writes, appends
the operation log row in the same transaction and publishes the event after commit.
"""

from __future__ import annotations

from accounts import permissions as perms
from accounts.oplog import action
from core.models import Job

from .layers import jobs, mapconfig, registry
from .layers.importer import ImportOptions, options_dict
from .models import Layer, MapConfig, Theme


def _layer_key(layer: Layer, *args, **kwargs) -> str:
    return layer.key


@action(
    "layers.import",
    permission=perms.LAYERS_IMPORT,
    target=lambda source, name, options, **_: options.key or name or str(source),
    details=lambda source, name, options, **_: options_dict(options),
)
def do_import_layer(
    scope, source, name: str | None, options: ImportOptions, sync: bool = False
) -> Job:
    """Gives the job importing `source` (an upload, or a local path when `name` is None) as a
    managed layer or into core geography; queued after commit, or run now when `sync`. The job
    runs as the caller: its owner, or the system actor that started it."""
    return jobs.start_import(source, name, options, scope=scope, sync=sync)


@action(
    "layers.edit",
    permission=perms.LAYERS_EDIT,
    target=_layer_key,
    details=lambda layer, changes: changes,
)
def do_edit_layer(scope, layer: Layer, changes: dict) -> Layer:
    """Gives the layer after presentation edits (title, fields, group, zooms, public, style)."""
    return registry.edit_layer(layer, changes)


@action("layers.delete", permission=perms.LAYERS_DELETE, target=_layer_key)
def do_delete_layer(scope, layer: Layer) -> None:
    """Deletes a managed layer: its registry entry and its table."""
    registry.delete_layer(layer)


@action("layers.refresh", permission=perms.LAYERS_EDIT, target=_layer_key)
def do_refresh_layer(scope, layer: Layer) -> Layer:
    """Gives the layer with its extent and feature count recomputed from its table."""
    return registry.refresh_stats(layer)


@action(
    "mapconfig.edit",
    permission=perms.MAPCONFIG_EDIT,
    target=lambda changes: "default",
    details=lambda changes: changes,
)
def do_set_map_config(scope, changes: dict) -> MapConfig:
    """Gives the map configuration after validated edits."""
    return mapconfig.update_config(changes)


@action(
    "themes.save",
    permission=perms.MAPCONFIG_EDIT,
    target=lambda data, theme=None: theme.key if theme else data.get("key", ""),
    details=lambda data, theme=None: data,
)
def do_save_theme(scope, data: dict, theme: Theme | None = None) -> Theme:
    """Gives a created (theme None) or edited theme."""
    return mapconfig.save_theme(data, theme)


@action("themes.delete", permission=perms.MAPCONFIG_EDIT, target=lambda theme: theme.key)
def do_delete_theme(scope, theme: Theme) -> None:
    """Deletes a theme (its layers stay)."""
    mapconfig.delete_theme(theme)
