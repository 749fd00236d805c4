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


class Windows:
    """Throughput over consecutive timed windows after a warm-up.

    `begin()` is called just before the first step and `tick()` once per
    finished step. The first `warmup` steps are not timed; the next `windows * steps_per_window` are, window by window.
    The process CPU time over the same span, divided by the wall time, shows
    how many threads really worked (1.0 = one busy core).
    """

    def __init__(self, warmup, windows, steps_per_window, images_per_step):
        self.warmup, self.windows, self.per_window = warmup, windows, steps_per_window
        self.images_per_step = images_per_step
        self.steps = 0
        self.marks = []   # (wall, cpu) at the start of each window and the end of the last

    @property
    def total_steps(self):
        return self.warmup + self.windows * self.per_window

    @property
    def done(self):
        return self.steps >= self.total_steps

    def _mark(self):
        self.marks.append((time.perf_counter(), time.process_time()))

    def begin(self):
        if self.warmup == 0:
            self._mark()

    def tick(self):
        self.steps += 1
        if self.steps >= self.warmup and (self.steps - self.warmup) % self.per_window == 0 \
                and len(self.marks) <= self.windows:
            self._mark()

    def summary(self):
        if len(self.marks) != self.windows + 1:
            raise RuntimeError(f"timed {len(self.marks) - 1} of {self.windows} windows")
        images = self.per_window * self.images_per_step
        rates = sorted(images / (end[0] - start[0])
                       for start, end in zip(self.marks, self.marks[1:]))
        wall = self.marks[-1][0] - self.marks[0][0]
        cpu = self.marks[-1][1] - self.marks[0][1]
        return {"images_per_s": round(statistics.median(rates), 1), "min_images_per_s": round(rates[0], 1),
                "max_images_per_s": round(rates[-1], 1), "windows": self.windows,
                "steps_per_window": self.per_window, "warmup_steps": self.warmup,
                "cpu_per_wall": round(cpu / wall, 2), "peak_rss_mb": peak_rss_mb()}
