"""Where a config's text comes from: a `-c` name, its YAML file, `-o` overrides.

`-c` takes a path or the bare name of a config that ships inside the package
(`-c lenet`), so the commands work from any folder and from an installed
wheel. Files and override values are read as bounded YAML (`yamlfile`), so a
hostile file cannot run for minutes or render gigabytes into a message.
`config` merges what these return over its defaults and validates it.
"""

import os

from . import yamlfile
from .errors import ConfigError
from .yamlfile import short

def merge(base, update):
    """Nested dict `update` over `base` (in place); a model's `args` are replaced whole."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "args":
            merge(base[key], value)
        else:
            base[key] = value
    return base


MAX_OVERRIDE = 10_000  # characters of one -o; a config value is never longer


def parse_override(text):
    """'a.b=1e-3' -> (['a', 'b'], value parsed as bounded YAML, see yamlfile)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {short(text)} must look like section.key=value, "
                          "e.g. -o train.epochs=1")
    if len(text) > MAX_OVERRIDE:
        raise ConfigError(f"override {short(text)} is longer than {MAX_OVERRIDE:,} characters")
    try:
        value = yamlfile.load(raw) if raw.strip() else None
    except yamlfile.YamlProblem as problem:
        raise ConfigError(f"override {short(text)}: the value {problem}") from None
    return key.strip().split("."), value


def apply_overrides(data, overrides):
    """Apply dotted overrides to a nested dict; unknown paths fail later in _build."""
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return data


def packaged_configs():
    """{name: path} of the configs that ship inside the package (`-c lenet`)."""
    from importlib import resources

    folder = resources.files("paddle_mnist.configs")
    return {entry.name[:-4]: str(entry) for entry in folder.iterdir()
            if entry.name.endswith(".yml")}


def find_config(name):
    """The file a `-c` value names: a path that exists, else a packaged config by its
    bare name (`lenet` or `lenet.yml`), wherever the command runs."""
    if os.path.exists(name) or os.path.dirname(name):
        return name
    stem = name[:-4] if name.endswith(".yml") else name
    return packaged_configs().get(stem, name)


def read_yaml(path):
    path = find_config(path)
    if not os.path.exists(path):
        names = ", ".join(sorted(packaged_configs()))
        raise ConfigError(f"config file not found: {path} (give a path to a YAML file, or the "
                          f"name of a packaged config: {names})")
    try:
        data = yamlfile.read(path)
    except yamlfile.YamlProblem as problem:
        raise ConfigError(f"{path} {problem}") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder; give a YAML file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {path}: {getattr(err, 'strerror', None) or err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (model, data, train, "
                          f"optimizer, output), not a YAML {type(data).__name__}")
    return data
