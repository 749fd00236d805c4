"""The per-config results table of docs/results.md, built from checkpoint sidecars.

Every cell comes from a sidecar (test accuracy, epochs, seconds per epoch
from the history) or from the network itself (parameters), and each row
carries the command that reproduces it: the config file named by the run,
plus `-o` for every setting the run changed from that file.
"""

import json
import os

from . import tables
from ..checkpoint import normalize_prefix, read_meta
from .curves import expand_prefixes

# What the material reports for the network a config reproduces.
PADDLE_LENET = (0.9846, "98.46% (paddle LeNet tutorial; 98.73% after fine-tuning)")
REFERENCES = {
    "lenet": PADDLE_LENET, "lenet_sequential": PADDLE_LENET, "lenet_layer": PADDLE_LENET,
    "lenet-finetune": (0.9873, "98.73% (paddle LeNet after fine-tuning)"),
    "lenet5_classic": (0.9746, "97.46% (LeNet-5 reproduction)"),
    "two_scale": (0.9875, "98.75% (two-scale net)"),
    "lenet_bn_aug": (0.987, "98.7% (LeNet + augmentation, BN, step decay)"),
}
HEADERS = ["config", "network", "parameters", "test accuracy", "material reports",
           "difference (points)", "seconds/epoch", "epochs", "command"]
END_MARKER = "<!-- end results table -->"
IGNORED = ("output.", "data.root")  # where a run wrote and read, not what it trained


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


def command(prefix, meta, configs_dir="configs"):
    """The command line that trains this checkpoint again (None if its config file is gone)."""
    from ..config import load_config

    config = meta["config"]
    if meta.get("source"):
        return (f"python tools/finetune.py --resume {meta['source']['prefix']} --lr "
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
    meta = read_meta(prefix)
    config, state = meta["config"], meta["state"]
    name = config["output"]["run_name"] or config["model"]["name"]
    test = (meta.get("test") or {}).get("acc")
    reference, reported = REFERENCES.get(name, (None, "-"))
    seconds = [r["train_seconds"] for r in state["history"]]
    difference = "-" if test is None or reference is None else f"{(test - reference) * 100:+.2f}"
    run = command(prefix, meta, configs_dir)
    return [name, config["model"]["name"], f"{parameter_count(config):,}", tables.percent(test),
            reported, difference, tables.seconds(sum(seconds) / len(seconds) if seconds else None),
            f"{state['epochs_done']}" + (" (early stop)" if state["stopped_early"] else ""),
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
