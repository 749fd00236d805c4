"""paddle-mnist: the classic MNIST workflow on PaddlePaddle's high-level API.

Train (`engine`), checkpoint (`checkpoint`), export (`export`) and recognise
digits in users' own images (`predict`), all driven by one config (`config`).
"""

from .cpu import let_mkl_use_avx2_on_amd

__version__ = "0.1.0"

let_mkl_use_avx2_on_amd()  # before paddle's MKL runs anything (see cpu.py)
