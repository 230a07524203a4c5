"""Reading the config file: YAML with duplicate keys refused, then ``${NAME}`` interpolation.

Both steps raise ConfigError with the file and the place (line and column for YAML, the
key path for interpolation).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import yaml

from monitor.config.env import BadReference, Interpolator, MissingVariable
from monitor.config.errors import KeyPath, from_yaml_error, key_path, render_value
from monitor.errors import ConfigError

#: The largest config file read: thousands of targets fit in a fraction of it.
MAX_CONFIG_BYTES = 1024 * 1024
#: The most values a config may hold once YAML aliases are expanded ("billion laughs").
MAX_CONFIG_VALUES = 200_000


def read_yaml(path: Path, source: str, where: str) -> Any:
    """The parsed file (None when empty); ``where`` says where the path came from.

    A file over MAX_CONFIG_BYTES, or whose aliases expand to more than MAX_CONFIG_VALUES
    values, is refused before anything is built from it.
    """
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{source}: {size:,} bytes; a config file is at most {MAX_CONFIG_BYTES:,} "
                "bytes (is this the right file?)",
                path=source,
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: no such file (config path from {where}); pass --config PATH or set "
            "MONITOR_CONFIG",
            path=source,
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source}: byte {exc.start}: not UTF-8 text; save the file as UTF-8", path=source
        ) from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot be read: {exc.strerror}", path=source) from None
    if _FastUniqueKeyLoader is not None:
        try:
            return _parse(_FastUniqueKeyLoader(text), source)
        except yaml.YAMLError:
            pass  # said below, in the words of PyYAML's own parser
    try:
        return _parse(_UniqueKeyLoader(text), source)
    except yaml.YAMLError as exc:
        raise from_yaml_error(exc, source) from None


def _parse(loader: _Loader, source: str) -> Any:
    """The document ``loader`` reads, refused when its aliases expand too far."""
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"{source}: its YAML aliases expand to more than {MAX_CONFIG_VALUES:,} values; "
                "write the values out, or use fewer nested aliases",
                path=source,
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """How many values ``root`` holds with every alias expanded; stops past the limit."""
    count, stack = 0, [root]
    while stack and count <= MAX_CONFIG_VALUES:
        node = stack.pop()
        count += 1
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return count


class _Loader(Protocol):
    """What _parse uses of a PyYAML loader."""

    def get_single_node(self) -> yaml.Node | None: ...

    def construct_document(self, node: yaml.Node) -> Any: ...

    def dispose(self) -> None: ...


class _UniqueKeys(yaml.constructor.SafeConstructor):
    """safe_load's constructor, except that a key repeated in one mapping is an error, not a
    silent override (two `settings:` blocks would otherwise lose the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the duplicate key {key_node.value!r}",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


class _UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """PyYAML's own (pure Python) safe loader, with unique keys: its error messages are the
    ones a user sees."""


#: PyYAML's safe loader on libyaml's parser (the same nodes, a tenth of the CPU: the config
#: is read by every command, ``status --heartbeat`` each minute), with unique keys; None
#: where PyYAML was built without libyaml. A document it refuses is read again by
#: _UniqueKeyLoader, so every message comes from one parser.
_FastUniqueKeyLoader: Callable[[str], _Loader] | None = (
    type("_FastUniqueKeyLoader", (_UniqueKeys, yaml.CSafeLoader), {})
    if yaml.__with_libyaml__
    else None
)


def interpolate(value: Any, loc: KeyPath, interpolator: Interpolator, source: str) -> Any:
    """A copy of ``value`` with every string interpolated; mapping keys are left alone."""
    if isinstance(value, dict):
        return {k: interpolate(v, (*loc, k), interpolator, source) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, (*loc, i), interpolator, source) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    try:
        return interpolator(value)
    except MissingVariable as exc:
        raise ConfigError(
            f"{source}: {key_path(loc)}: environment variable {exc.name} is not set; "
            f"export it, or write ${{{exc.name}:-default}} to give a default",
            path=source,
            key=key_path(loc),
        ) from None
    except BadReference:
        shown = render_value(value, loc, interpolator.secrets)
        raise ConfigError(
            f"{source}: {key_path(loc)}: {shown} has a malformed ${{…}}; write "
            "${NAME} or ${NAME:-default} (and $${ for a literal ${)",
            path=source,
            key=key_path(loc),
        ) from None
