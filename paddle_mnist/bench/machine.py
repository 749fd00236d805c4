"""What a benchmark figure was measured on: CPU, load, versions, memory.

Timings on a shared 2-core machine move with whatever else runs, so every
report carries the load average and the peak memory next to its numbers.
"""

import os
import platform
import resource
import statistics
import time


def cpu_model():
    """The CPU's model name as the kernel reports it (what lscpu shows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    return [round(value, 2) for value in os.getloadavg()]


def peak_rss_mb():
    """This process's peak resident memory so far (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def describe():
    import paddle

    return {"cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
            "load_average": load_average(), "python": platform.python_version(),
            "paddle_version": paddle.__version__, "device": paddle.device.get_device()}


def now():
    return time.perf_counter(), time.process_time()


def summarise(spans, images_per_window, **extra):
    """Median/min/max images/s over timed windows [((wall, cpu) start, (wall, cpu) end)].

    CPU time over wall time shows how many threads really worked (1.0 = one
    busy core; less when other processes share the CPUs).
    """
    rates = sorted(images_per_window / (end[0] - start[0]) for start, end in spans)
    wall = sum(end[0] - start[0] for start, end in spans)
    cpu = sum(end[1] - start[1] for start, end in spans)
    return {"images_per_s": round(statistics.median(rates), 1),
            "min_images_per_s": round(rates[0], 1), "max_images_per_s": round(rates[-1], 1),
            "windows": len(spans), **extra, "cpu_per_wall": round(cpu / wall, 2),
            "peak_rss_mb": peak_rss_mb()}


class Windows:
    """Times a training loop that reports each finished step, window by window.

    `begin()` is called just before the first step and `tick()` once per
    finished step. The first `warmup` steps are not timed; then `windows`
    windows of `steps_per_window` steps are. `between()`, if given, runs
    after each window but the last, outside any window: that is where other
    contenders (the PyTorch reference) take their turn, so all of them see
    the same machine load.
    """

    def __init__(self, warmup, windows, steps_per_window, images_per_step, between=None):
        self.warmup, self.windows, self.per_window = warmup, windows, steps_per_window
        self.images_per_step, self.between = images_per_step, between
        self.steps = 0
        self.spans = []
        self._start = None

    @property
    def total_steps(self):
        return self.warmup + self.windows * self.per_window

    def begin(self):
        if self.warmup == 0:
            self._start = now()

    def tick(self):
        self.steps += 1
        if self.steps == self.warmup:
            self._start = now()
        elif self._start is not None and (self.steps - self.warmup) % self.per_window == 0:
            self.spans.append((self._start, now()))
            self._start = None
            if len(self.spans) < self.windows:
                if self.between:
                    self.between()
                self._start = now()

    def summary(self):
        if len(self.spans) != self.windows:
            raise RuntimeError(f"timed {len(self.spans)} of {self.windows} windows")
        return summarise(self.spans, self.per_window * self.images_per_step,
                         steps_per_window=self.per_window, warmup_steps=self.warmup)
