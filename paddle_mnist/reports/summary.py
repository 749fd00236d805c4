"""What the tools print: the summaries of training, fine-tuning, evaluation,
export and the benchmarks, in one place so their wording stays consistent."""

import os


def train_summary(result):
    """`train` and `finetune`: the test score, time per epoch, where everything went."""
    state, test = result.state, result.test
    lines = [] if result.epochs_trained else [
        f"nothing left to train: {result.checkpoint} already holds {state.epochs_done} epochs"
        + (" (it stopped early)" if state.stopped_early else "") + "; nothing was changed"]
    lines.append(f"test accuracy {test['acc']:.2%} (loss {test['loss']:.4f}) after "
                 f"{state.epochs_done} epochs" + (" (stopped early)" if state.stopped_early else ""))
    if state.history:
        seconds = sum(r.train_seconds for r in state.history) / len(state.history)
        lines.append(f"training time {seconds:.1f} s per epoch (mean of {len(state.history)})")
    lines.append(f"checkpoint: {result.checkpoint}  (resume: --resume {result.checkpoint})")
    if state.best_epoch:
        lines.append(f"best epoch {state.best_epoch} (eval accuracy {state.best_acc:.2%}): "
                     f"{result.best_checkpoint}")
    if state.log_file:
        lines.append(f"VisualDL run: {result.log_dir}  (view: visualdl --logdir "
                     f"{os.path.dirname(result.log_dir) or '.'})")
    else:
        lines.append("VisualDL: off (visualdl.enabled=false)")
    return "\n".join(lines)


def finetune_start(job):
    """What a fine-tune is about to do (and which parameters it could not load)."""
    lines = []
    if job.skipped:
        lines.append(f"skipped {len(job.skipped)} mismatched parameter(s), left freshly "
                     f"initialised: {', '.join(job.skipped)}")
    lines.append(f"fine-tuning {job.source} (epoch {job.source_epoch}) for "
                 f"{job.config.train.epochs} epochs at learning rate {job.lr:g} (checkpoint's: "
                 f"{job.source_lr:g}) -> {job.config.output.checkpoint}")
    return "\n".join(lines)


def evaluation_line(result):
    """`eval`: one line with the checkpoint, its epoch and its accuracy."""
    epoch = "no sidecar" if result["epoch"] is None else f"epoch {result['epoch']}"
    return (f"{result['checkpoint']} ({result['model']}, {epoch}): "
            f"{result['split']} accuracy {result['acc']:.2%}, loss {result['loss']:.4f} "
            f"on {result['samples']} images")


def export_summary(result):
    """`export`: what was exported, how it was verified, the files written."""
    spec = result.spec
    epoch = "no sidecar" if spec.source_epoch is None else f"epoch {spec.source_epoch}"
    lines = [f"exported {spec.source} ({spec.model}, {epoch}) "
             f"with input [N, 1, {spec.input_size}, {spec.input_size}]"]
    for backend, diff in result.max_abs_diff.items():
        lines.append(f"verified {backend}: max abs logit difference {diff:.2e} vs dygraph, same "
                     f"prediction on {result.agreement[backend]}/{result.images} test images")
    lines.append("files written:")
    lines += [f"  {path}" for path in result.files]
    return "\n".join(lines)


def training_benchmark_table(report):
    """`benchmark train`: one row per measurement, the ratios and the profile below."""
    header = ("framework", "batch", "ranks", "threads", "img/s", "min", "max", "cpu/wall",
              "peak MB")
    lines = [[r["framework"], r["global_batch"], r["ranks"], r["threads"],
              f"{r['images_per_s']:.0f}", f"{r['min_images_per_s']:.0f}",
              f"{r['max_images_per_s']:.0f}", f"{r['cpu_per_wall']:.2f}", f"{r['peak_rss_mb']:.0f}"]
             for r in report["results"]]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    text = ["  ".join(str(c).rjust(w) for c, w in zip(line, widths)) for line in [header] + lines]
    info = report["machine"]
    text.insert(0, f"{info['cpu_model']}, {info['logical_cpus']} logical CPUs, paddle "
                   f"{info['paddle_version']} on {info['device']}, load average "
                   f"{info['load_average']} before, {info['load_average_after']} after")
    for ratio in report.get("ratios", []):
        which = "default" if ratio["torch_threads"] == ratio["torch_default_threads"] else "set"
        threads = f"{ratio['torch_threads']} thread" + ("s" if ratio["torch_threads"] > 1 else "")
        text.append(f"batch {ratio['batch']}: paddle / torch ({threads}, {which}) = "
                    f"{ratio['paddle_over_torch']:.2f}x")
    if "profile" in report:
        text.append(profile_table(report["profile"]))
    return "\n".join(text)


def profile_table(profile):
    """`benchmark train --profile`: where a training step's time goes, per operator."""
    lines = [f"profile of {profile['model']} at batch {profile['batch']} over {profile['steps']} "
             f"steps (under the profiler): {profile['step_ms']:.2f} ms per step",
             f"{'op':<42} {'calls':>6} {'ms/step':>8} {'share':>6}"]
    for row in profile["ops"]:
        lines.append(f"{row['op']:<42} {row['calls_per_step']:>6g} {row['ms_per_step']:>8.3f} "
                     f"{row['share']:>6.1%}")
    lines.append(f"{'(other ops)':<42} {'':>6} {profile['other_ops_ms_per_step']:>8.3f}")
    lines.append(f"{'(outside ops: python, hapi, loader)':<42} {'':>6} "
                 f"{profile['outside_ops_ms_per_step']:>8.3f}")
    return "\n".join(lines)


def inference_benchmark_table(report):
    """`benchmark infer`: the machine, then one row per backend and batch size, skipped
    backends and the Paddle call breakdown below."""
    rows = report["results"]
    info = report["machine"]
    lines = [f"{info['cpu_model']}, {info['logical_cpus']} logical CPUs, paddle "
             f"{info['paddle_version']}, load average {info['load_average']} before, "
             f"{info['load_average_after']} after",
             f"{'backend':>8}  {'batch':>5}  {'p50 us':>9}  {'p99 us':>9}  {'images/s':>9}  "
             f"{'p50 vs onnx':>11}"]
    for row in rows:
        if "skipped" not in row:
            ratio = f"{row['p50_vs_onnx']:.2f}x" if "p50_vs_onnx" in row else "-"
            lines.append(f"{row['backend']:>8}  {row['batch']:>5}  {row['p50_us']:>9.1f}  "
                         f"{row['p99_us']:>9.1f}  {row['images_per_s']:>9.0f}  {ratio:>11}")
    for row in rows:
        if "breakdown_us" in row:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in row["breakdown_us"].items())
            lines.append(f"paddle batch-1 call, median us: {parts}")
        if "op_profile" in row:
            profile = row["op_profile"]
            parts = ", ".join(f"{op['op']} x{op['calls_per_call']:g} {op['us_per_call']:.1f} "
                              f"(min {op['min_us']:.1f})" for op in profile["ops"])
            lines.append(f"paddle batch-{row['batch']} ops under the profiler "
                         f"({profile['us_per_call']:.1f} us a call), us per call: {parts}, "
                         f"outside ops {profile['outside_ops_us']:.1f}")
        if "skipped" in row:
            lines.append(f"{row['backend']}: skipped, {row['skipped']}")
    return "\n".join(lines)


def preprocess_benchmark_table(report):
    """`benchmark preprocess`: per-photo times, predict's images/s, the profile below."""
    info = report["machine"]
    height, width = report["photo_shape"]
    lines = [f"{info['cpu_model']}, {info['logical_cpus']} logical CPUs, load average "
             f"{info['load_average']} before, {info['load_average_after']} after",
             f"one {width}x{height} JPEG photo, {'step':<22} {'median ms':>9} {'p90 ms':>8}"]
    for step, times in report["per_photo"].items():
        lines.append(f"{'':>{len(lines[1]) - 41}}{step:<22} {times['median_ms']:>9.2f} "
                     f"{times['p90_ms']:>8.2f}")
    run = report["predict"]
    lines.append(f"tools/predict.py's path ({report['model']}, {report['backend']}, batches of "
                 f"{run['batch_size']}): {run['images']} photos in {run['seconds']:.2f} s = "
                 f"{run['images_per_s']:.0f} images/s ({run['correct']} read right, "
                 f"{run['refused']} refused)")
    if "profile" in report:
        profile = report["profile"]
        lines.append(f"to_mnist profile over {profile['photos']} photos (cProfile, ms per photo):")
        lines.append(f"  {'function':<52} {'calls':>6} {'own':>7} {'total':>7}")
        lines += [f"  {row['function'][:52]:<52} {row['calls_per_photo']:>6g} "
                  f"{row['own_ms_per_photo']:>7.3f} {row['total_ms_per_photo']:>7.3f}"
                  for row in profile["functions"]]
    return "\n".join(lines)


def report_summary(report, out_dir):
    """The few lines `eval --report` prints."""
    timing = report["inference"]
    lines = [f"{report['checkpoint']} ({report['model']}, epoch {report['epoch']}): "
             f"{report['split']} accuracy {report['accuracy']:.2%}, loss {report['loss']:.4f} "
             f"on {report['samples']} images ({report['mistakes']} mistakes)",
             "most confused pairs (true as predicted):"]
    lines += [f"  {p['a']} vs {p['b']}: {p['count']} ({p['a']} as {p['b']}: {p['a_as_b']}, "
              f"{p['b']} as {p['a']}: {p['b_as_a']})" for p in report["confused_pairs"]]
    lines.append(f"inference on {timing['device']}: {timing['ms_per_image_batched']:.3f} ms per "
                 f"image in batches of {timing['batch_size']}, "
                 f"{timing['ms_per_image_single']:.2f} ms for a single image")
    lines.append(f"report: {os.path.join(out_dir, 'report.json')} (+ confusion_matrix.png, "
                 "mistakes.png, samples.png)")
    return "\n".join(lines)


def serving_benchmark_table(report):
    """`benchmark serve`: the machine, the round-trip percentiles, where the server spent it."""
    info = report["machine"]
    verdict = "met" if report["target_met"] else "NOT met"
    parts = ", ".join(f"{name} {ms:.2f}" for name, ms in report["server_median_ms"].items())
    return "\n".join([
        f"{info['cpu_model']}, {info['logical_cpus']} logical CPUs, load average "
        f"{info['load_average']} before, {info['load_average_after']} after",
        f"POST /api/predict of a {report['canvas']} canvas drawing, {report['backend']} "
        f"backend, records in {report['database']}",
        f"{report['requests']} requests, one at a time: p50 {report['p50_ms']:.2f} ms, "
        f"p90 {report['p90_ms']:.2f} ms, p99 {report['p99_ms']:.2f} ms "
        f"(target p50 <= {report['target_ms']:g} ms: {verdict})",
        f"server side, median ms: {parts}",
        f"records committed: {report['records_committed']} (warm-up included)",
    ])


def folder_report_summary(report, out_dir=None):
    """`eval --images`: accuracy, refusals and why, per class, the most confused pairs."""
    lines = [f"{report['source']} ({report['model']}) on {report['folder']}: "
             f"{report['accuracy']:.2%} ({report['correct']}/{report['samples']}) read "
             f"correctly, {report['refused']} refused"]
    lines += [f"  refused {count}: {reason}" for reason, count in report["refusal_reasons"].items()]
    lines.append("per class: " + "  ".join(
        f"{c['class']} {c['accuracy']:.0%}" + (f" ({c['refused']} refused)" if c["refused"] else "")
        for c in report["per_class"] if c["samples"]))
    if report["confused_pairs"]:
        lines.append("most confused pairs (true as predicted):")
        lines += [f"  {p['a']} vs {p['b']}: {p['count']} ({p['a']} as {p['b']}: {p['a_as_b']}, "
                  f"{p['b']} as {p['a']}: {p['b_as_a']})" for p in report["confused_pairs"]]
    if out_dir:
        lines.append(f"report: {os.path.join(out_dir, 'report.json')} (+ confusion_matrix.png, "
                     "mistakes.png)")
    return "\n".join(lines)


def _percent(value):
    return "-" if value is None else f"{value:.2%}"


def update_summary(result):
    """`update`: both models' figures, the gate's verdict and the registered version."""
    decision = result.decision
    current, candidate = decision["current"], decision["candidate"]
    verdict = "PROMOTED: servers switch to it" if result.promoted else "kept as a candidate"
    return "\n".join([
        f"{'':<24}{'MNIST test':>12}{'hold-out':>12}   ({decision['holdout_samples']} held-out "
        "records)",
        f"{'current (version ' + str(current['id']) + ')':<24}{_percent(current['mnist']):>12}"
        f"{_percent(current['holdout']):>12}",
        f"{'candidate':<24}{_percent(candidate['mnist']):>12}{_percent(candidate['holdout']):>12}",
        f"gate: {decision['reason']}",
        f"version {result.version_id} registered, {verdict}"])


def versions_table(versions):
    """`models list`: one line per registered version, newest first."""
    if not versions:
        return "no model version yet: start the service on this database with --model"
    lines = [f"{'id':>4}  {'status':<9}  {'created (UTC)':<16}  {'version':<12}  {'MNIST':>7}  "
             f"{'hold-out':>8}  source"]
    for v in versions:
        held = next(iter((v.holdout or {}).values()), None)
        lines.append(f"{v.id:>4}  {v.status:<9}  {v.created_at:%Y-%m-%d %H:%M}  "
                     f"{v.version[:12]:<12}  {_percent(v.mnist_accuracy):>7}  "
                     f"{_percent(held):>8}  {v.source_checkpoint or '-'}")
    return "\n".join(lines)


def dashboard_benchmark_table(report):
    """`benchmark dashboard`: every run in the order it ran, then the medians."""
    info = report["machine"]
    lines = [f"{info['cpu_model']}, {info['logical_cpus']} logical CPUs, paddle "
             f"{info['paddle_version']}; load average {info['load_average']} before, "
             f"{info['load_average_after']} after",
             f"{report['config']} {' '.join('-o ' + o for o in report['overrides'])}".rstrip(),
             "dashboard   wall s   epochs s   load before"]
    for run in report["runs"]:
        lines.append(f"{'on' if run['dashboard'] else 'off':>9}  {run['wall_s']:7.1f}  "
                     f"{run['epochs_s']:9.1f}   {run['load_before']}")
    off, on, extra = report["off"], report["on"], report["overhead"]
    lines.append(f"median of {report['repeats']}: off {off['wall_s']:.1f} s, on "
                 f"{on['wall_s']:.1f} s wall ({extra['wall_s']:+.1%}); epochs {off['epochs_s']:.1f}"
                 f" -> {on['epochs_s']:.1f} s ({extra['epochs_s']:+.1%})")
    return "\n".join(lines)
