"""The config schema: defaults, files, overrides and every kind of mistake."""

import glob
import os

import pytest
import yaml

from paddle_mnist.config import Config, from_dict, load_config
from paddle_mnist.configfiles import parse_override
from paddle_mnist.errors import ConfigError

from conftest import REPO

CONFIGS = sorted(glob.glob(str(REPO / "configs" / "*.yml")))


def test_defaults_are_the_tutorial_recipe():
    config = Config()
    assert config.model.name == "lenet"
    assert (config.train.epochs, config.train.batch_size) == (5, 64)
    assert (config.optimizer.name, config.optimizer.learning_rate) == ("adam", 0.001)
    assert (config.data.mean, config.data.std) == (127.5, 127.5)
    assert (config.output.checkpoint, config.output.log_dir) == ("output/mnist", "logs")


def test_file_then_overrides_win(tmp_path):
    path = tmp_path / "exp.yml"
    path.write_text("train:\n  epochs: 3\noptimizer:\n  learning_rate: 1e-3\n")
    config = load_config(str(path), ["train.epochs=1", "optimizer.lr_schedule.name=cosine"])
    assert config.train.epochs == 1
    assert config.optimizer.learning_rate == pytest.approx(0.001)  # YAML 1.1 reads 1e-3 as text
    assert config.optimizer.lr_schedule.name == "cosine"
    assert config.train.batch_size == 64  # untouched default
    assert config.output.run_name == "exp"


def test_resolved_config_round_trips_through_yaml(tmp_path):
    config = load_config(str(REPO / "configs" / "lenet_bn_aug.yml"))
    again = tmp_path / "resolved.yml"
    again.write_text(yaml.safe_dump(config.to_dict()))
    assert load_config(str(again)).to_dict() == config.to_dict()


@pytest.mark.parametrize("override, message", [
    ("optimizer.lerning_rate=0.1", "did you mean 'optimizer.learning_rate'"),
    ("trian.epochs=1", "did you mean 'train'"),
    ("train.epochs=-1", "'train.epochs' is -1; it must be >= 1"),
    ("train.batch_size=0", "'train.batch_size' is 0; it must be >= 1"),
    ("train.epochs=two", "'train.epochs' must be int"),
    ("train.epochs=true", "'train.epochs' must be int"),
    ("optimizer.name=rmsprop", "choose one of: adam, adamw, sgd, momentum"),
    ("data.input_size=30", "choose one of: 28, 32"),
    ("data.augment.scale=1.1", "must be a list"),
    ("data.augment.scale=[1.2, 0.9]", "two numbers [low, high] with 0 < low <= high"),
    ("model=lenet", "section 'model' must be a mapping"),
    ("train.epochs", "must look like section.key=value"),
    ("=3", "must look like section.key=value"),
    ("train.epochs=[1", "not valid YAML"),
    ("optimizer.learning_rate=.nan", "'optimizer.learning_rate' is nan; give a finite number"),
    ("data.std=.inf", "'data.std' is inf; give a finite number"),
])
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError, match=None) as err:
        from_dict({}, [override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_override_values_are_yaml_not_python():
    assert parse_override("model.args.num_classes=10") == (["model", "args", "num_classes"], 10)
    assert parse_override("output.run_name=__import__('os')")[1] == "__import__('os')"
    assert parse_override("data.augment.scale=[0.9, 1.1]")[1] == [0.9, 1.1]


@pytest.mark.parametrize("text, message", [
    ("train: [1, 2]\n", "section 'train' must be a mapping"),
    ("train:\n  epochs: 3\n bad indent\n", "not valid YAML at line"),
    ("- just\n- a list\n", "must hold a mapping of sections"),
])
def test_bad_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert message in str(err.value)


def test_a_config_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigError, match="must be a mapping of sections"):
        from_dict(["model", "lenet"])


def test_missing_file():
    with pytest.raises(ConfigError, match="config file not found: nope.yml"):
        load_config("nope.yml")


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_every_shipped_config_is_valid_and_builds_its_network(path):
    from paddle_mnist.network import build_network, paddle_model
    from paddle_mnist.sweep import plan

    if os.path.basename(path).startswith(("sweep", "ablation")):
        # grid files for tools/sweep.py / ablate.py: every point must resolve
        configs = [point.config for point in plan(path).points]
    else:
        configs = [load_config(path)]
    for config in configs:
        model = paddle_model(config, build_network(config))
        assert sum(p.size for p in model.parameters()) > 0
