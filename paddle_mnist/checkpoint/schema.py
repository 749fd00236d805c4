"""The sidecar `<prefix>.meta.json` as one typed, validated record.

A checkpoint describes itself: the resolved config it was trained with, how
far the run got (`RunState`, enough to resume it exactly), its scores and the
sha256 of its weight files. Every field is read through `Sidecar.from_json`,
which checks its type, so a hand-edited or foreign file is one
`CheckpointError` naming the field instead of a KeyError deep in training.

Format 2 adds `config_sha256`, so that an edited config (another
normalisation, say) is caught like an edited weight file. Format 3 adds the
run's VisualDL record file and the offsets its numbering starts from
(`RunState.log_file`, `epoch_offset`, `step_offset`). Format 1 and 2 sidecars
still load, with those fields at their defaults.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..errors import CheckpointError
from ..typed_json import Problem, build, check_depth

FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)


@dataclass
class EpochRecord:
    """One line of a run's history: what an epoch trained and scored."""

    epoch: int
    train_loss: float
    train_acc: float
    eval_loss: float
    eval_acc: float
    lr: float
    train_seconds: float
    seconds: float


@dataclass
class RunState:
    """What a checkpoint must remember to continue a run where it stopped."""

    epochs_done: int = 0
    steps_done: int = 0
    epoch_steps_done: int = 0   # steps of the unfinished next epoch (after Ctrl-C)
    best_acc: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped_early: bool = False
    run_name: str = ""
    log_dir: str = ""
    # the VisualDL record file in log_dir that every leg of the run appends to
    # ("" before format 3: a resumed old run starts a new file there)
    log_file: str = ""
    # VisualDL numbers this run's epochs and steps from here: a fine-tune continues
    # its source's curves (source epochs_done + its own epoch_offset), while
    # epochs_done / steps_done above still count this run's own, for resuming it
    epoch_offset: int = 0
    step_offset: int = 0
    history: List[EpochRecord] = field(default_factory=list)


@dataclass
class Source:
    """The checkpoint a fine-tune started from."""

    prefix: str
    epoch: int


@dataclass
class Score:
    """Accuracy and whole-set loss of the checkpoint's weights on a split."""

    acc: float
    loss: float
    samples: int


@dataclass
class DataParallel:
    """How the run was spread over ranks (1 rank without the launcher)."""

    ranks: int
    batch_per_rank: int
    global_batch: int
    learning_rate: float
    samples_per_rank: List[int] = field(default_factory=list)


@dataclass
class ExtraRecord:
    """A source of users' labelled images the run trained on beside MNIST."""

    source: str
    share: float
    train: int
    holdout: int
    holdout_ids: List[str] = field(default_factory=list)   # never trained on
    newest_record: int = 0                                 # a database's newest labelled record
    skipped: Dict[str, int] = field(default_factory=dict)  # reason -> count


@dataclass
class Sidecar:
    model: str
    config: dict                 # the resolved Config, as Config.to_dict() wrote it
    state: RunState
    eval_split: str
    lr_multiplier: float
    data_parallel: DataParallel
    paddle_version: str
    files: Dict[str, str] = field(default_factory=dict)   # extension -> sha256
    format: int = FORMAT_VERSION
    config_sha256: Optional[str] = None                   # format 2 on
    source: Optional[Source] = None
    test: Optional[Score] = None
    extra: List[ExtraRecord] = field(default_factory=list)

    @classmethod
    def from_json(cls, data, path):
        """Validate a parsed sidecar; CheckpointError names `path` and the bad field."""
        if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise CheckpointError(f"{path} is not a paddle-mnist checkpoint sidecar (format "
                                  f"{str(found)[:20]!r}, expected one of {list(READABLE_FORMATS)})")
        try:
            check_depth(data)
            sidecar = build(cls, data)
            if sidecar.eval_split not in ("val", "test"):
                raise Problem("eval_split", "must be 'val' or 'test'")
        except Problem as problem:
            raise CheckpointError(f"{path}: {problem}; the sidecar was edited or damaged: use "
                                  "another checkpoint or retrain") from None
        return sidecar

    def to_json(self):
        data = dataclasses.asdict(self)
        return {key: value for key, value in data.items() if value is not None}

    def replace(self, **fields):
        return dataclasses.replace(self, **fields)
