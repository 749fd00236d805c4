"""CPU settings the toolkit applies before paddle's MKL does any work.

The MKL bundled with paddle's CPU wheel (older than MKL 2020.1) chooses its
kernels by CPU vendor: on AMD processors it runs the generic SSE2 ones
(`mkl_blas_def_sgemm_*` in perf), although they support AVX2 and AVX-512.
Paddle's plain CPU convolutions are im2col + MKL sgemm, so this costs LeNet
about a third of its training step and of a batch-1 inference call.
`MKL_DEBUG_CPU_TYPE=5` selects the AVX2 kernels (docs/performance.md has the
A/B figures). The package sets it on import, so every tool gets it.
"""

import os


def let_mkl_use_avx2_on_amd():
    """Ask MKL for its AVX2 kernels on AMD CPUs, unless MKL_DEBUG_CPU_TYPE is set.

    MKL reads the variable at its first BLAS call, so this must run before
    anything in the process has used MKL; later it changes nothing.
    `MKL_DEBUG_CPU_TYPE=` (set, empty) opts out.
    """
    if "MKL_DEBUG_CPU_TYPE" in os.environ:
        return
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            amd = any(line.startswith("vendor_id") and "AuthenticAMD" in line for line in info)
    except OSError:  # not Linux: nothing to read, leave MKL alone
        return
    if amd:
        os.environ["MKL_DEBUG_CPU_TYPE"] = "5"
