"""The per-config results table of docs/results.md, built from checkpoint sidecars.

Every cell comes from a sidecar (test accuracy, epochs, seconds per epoch
from the history) or from the network itself (parameters), and each row
carries the command that reproduces it: the config file named by the run,
plus `-o` for every setting the run changed from that file.
"""

import json
import os

from . import tables
from ..checkpoint import normalize_prefix, read_sidecar
from .curves import expand_prefixes
HEADERS = ["config", "network", "parameters", "test accuracy", "material reports",
           "difference (points)", "seconds/epoch", "epochs", "command"]
END_MARKER = "<!-- end results table -->"
IGNORED = ("output.", "data.root", "reference.")  # not what a run trained


def parameter_count(config):
    from ..models import create_model

    network = create_model(config["model"]["name"], **config["model"]["args"])
    return sum(int(p.numel()) for p in network.parameters() if p.trainable)


def _flatten(data, where=""):
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and value and key != "args":
            flat.update(_flatten(value, f"{where}{key}."))
        else:
            flat[where + key] = value
    return flat


def _shell_value(value):
    """A YAML value without spaces or quotes, so it survives the shell unquoted."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def reference(config, finetuned):
    """(accuracy, text) the material reports for this recipe, from the config's
    `reference` section (after fine-tuning when `finetuned`); (None, '-') if none."""
    ref = config.get("reference") or {}
    accuracy = ref.get("finetuned_accuracy") if finetuned else ref.get("accuracy")
    if accuracy is None:
        return None, "-"
    after = " after fine-tuning" if finetuned else ""
    return accuracy, f"{accuracy:.2%} ({ref.get('source') or 'reference'}{after})"


def command(prefix, sidecar, configs_dir="configs"):
    """The command line that trains this checkpoint again (None if its config file is gone)."""
    from ..config import load_config

    config = sidecar.config
    if sidecar.source:
        return (f"python tools/finetune.py --resume {sidecar.source.prefix} --lr "
                f"{config['optimizer']['learning_rate']:g} --epochs {config['train']['epochs']} "
                f"--output {prefix}")
    path = os.path.join(configs_dir, f"{config['output']['run_name']}.yml")
    if not os.path.isfile(path):
        return None
    stored = _flatten(load_config(path).to_dict())
    changed = [f"-o {key}={_shell_value(value)}" for key, value in _flatten(config).items()
               if value != stored.get(key) and not key.startswith(IGNORED)]
    return " ".join([f"python tools/train.py -c {path}"] + changed
                    + [f"-o output.checkpoint={prefix}"])


def row(prefix, configs_dir="configs"):
    prefix = normalize_prefix(prefix)
    sidecar = read_sidecar(prefix)
    config, state = sidecar.config, sidecar.state
    name = config["output"]["run_name"] or config["model"]["name"]
    test = sidecar.test.acc if sidecar.test else None
    expected, reported = reference(config, finetuned=sidecar.source is not None)
    seconds = [r.train_seconds for r in state.history]
    difference = "-" if test is None or expected is None else f"{(test - expected) * 100:+.2f}"
    run = command(prefix, sidecar, configs_dir)
    return [name, config["model"]["name"], f"{parameter_count(config):,}", tables.percent(test),
            reported, difference, tables.seconds(sum(seconds) / len(seconds) if seconds else None),
            f"{state.epochs_done}" + (" (early stop)" if state.stopped_early else ""),
            f"`{run}`" if run else "(config file not found)"]


def results_table(prefixes, configs_dir="configs"):
    return tables.markdown(HEADERS, [row(prefix, configs_dir)
                                     for prefix in expand_prefixes(prefixes)])


def replace_block(document, table):
    """`document` with the lines after its `<!-- results table` marker (up to END_MARKER)
    replaced by `table`; None if the document has no marker."""
    lines = document.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("<!-- results table")), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == END_MARKER), start)
    return "".join(lines[:start + 1] + [table, END_MARKER + "\n"] + lines[end + 1:])
