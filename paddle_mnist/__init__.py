"""paddle-mnist: the classic MNIST workflow on PaddlePaddle's high-level API.

Train (`engine`), checkpoint (`checkpoint`), export (`export`) and recognise
digits in users' own images (`predict`), all driven by one config (`config`).
"""

__version__ = "0.1.0"
