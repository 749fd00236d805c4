"""Human-readable summaries of what a run did, printed by the tools."""


def train_summary(result):
    state, test = result.state, result.test
    lines = [f"test accuracy {test['acc']:.2%} (loss {test['loss']:.4f}) after "
             f"{state.epochs_done} epochs" + (" (stopped early)" if state.stopped_early else "")]
    if state.history:
        seconds = sum(r["train_seconds"] for r in state.history) / len(state.history)
        lines.append(f"training time {seconds:.1f} s per epoch (mean of {len(state.history)})")
    lines.append(f"checkpoint: {result.checkpoint}  (resume: --resume {result.checkpoint})")
    if state.best_epoch:
        lines.append(f"best epoch {state.best_epoch} (eval accuracy {state.best_acc:.2%}): "
                     f"{result.best_checkpoint}")
    lines.append(f"VisualDL run: {result.log_dir}  (view: visualdl --logdir "
                 f"{result.log_dir.rsplit('/', 1)[0] or '.'})")
    return "\n".join(lines)
