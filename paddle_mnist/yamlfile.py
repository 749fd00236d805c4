"""Read the YAML users write (config files, -o values) at a bounded cost.

`yaml.safe_load` runs no code, but it still accepts a 50 MB file, nesting
deep enough to overflow Python's stack, a "billion laughs" of aliases that is
tiny on disk and astronomically large once anything walks it, and a mapping
that names a key twice (the second silently wins, so a second `train:`
section drops the first). Configs are small, so each of these is refused
with the line it happens on, before anything walks the value; and messages
show values through `short`, never in full.
"""

import reprlib

import yaml

MAX_BYTES = 1 << 20      # a config is a few hundred bytes; 1 MiB is no config
MAX_DEPTH = 32           # configs nest 4 levels
MAX_VALUES = 10_000      # values after aliases are expanded
MAX_SHOWN = 80           # characters of a value quoted in a message


class YamlProblem(ValueError):
    """The text is not YAML we accept; str() says why (and where)."""


_SHORT = reprlib.Repr()  # looks at a few items of a few levels, however large the value
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 8, 8
_SHORT.maxstring = _SHORT.maxother = MAX_SHOWN


def short(value, limit=MAX_SHOWN):
    """repr(value), cut to `limit` characters, safe for any value (even a huge one)."""
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _where(mark):
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


class _BoundedLoader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlProblem(f"nests deeper than {MAX_DEPTH} levels{_where(mark)}")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node,
                                                                          yaml.ScalarNode):
                continue
            if key_node.value in seen:
                raise YamlProblem(f"names key {short(key_node.value)} twice"
                                  f"{_where(key_node.start_mark)}; keep one of them")
            seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def _count_values(data):
    """Raise YamlProblem when `data`, aliases expanded, holds more than MAX_VALUES values."""
    pending, count = [data], 0
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise YamlProblem(f"holds more than {MAX_VALUES:,} values once its aliases (*name) "
                              "are expanded")
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def load(text):
    """Parse YAML text (str) within the bounds above; any problem is a YamlProblem."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"is larger than {MAX_BYTES:,} bytes")
    try:
        data = yaml.load(text, Loader=_BoundedLoader)
    except RecursionError:  # flow collections nested faster than compose_node sees
        raise YamlProblem(f"nests deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise YamlProblem(f"is not valid YAML{_where(getattr(err, 'problem_mark', None))}: "
                          f"{problem}") from None
    _count_values(data)
    return data


def read(path):
    """Parse the YAML file at `path` (a plain file, a pipe, /dev/stdin ...): at most
    MAX_BYTES are read, so an endless or huge stream is refused, not swallowed."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlProblem(f"is larger than {MAX_BYTES:,} bytes")
    return load(raw.decode("utf-8"))
