"""Write folders of pictures of handwritten numbers, to measure the number reader.

    python tools/compose.py --out numbers/mnist --count 1000      # MNIST test digits, 5 styles
    python tools/compose.py --source cvl --out numbers/cvl --count 200   # real scans: eval only
    python tools/eval.py --numbers numbers/mnist --model inference/mnist

Each picture is named <index>_<number>_<style>: a number of 2-8 digits composed
from real single digits (MNIST's test split, or the CVL or USPS scans of
../shared/data/real-digits) and rendered as a photo, scan, drawing pad, ruled
page or tightly written line (paddle_mnist/bench/numbers.py).
"""

import os

REAL_DIGITS = os.path.join("..", "shared", "data", "real-digits")


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    parser.add_argument("--source", choices=("mnist", "cvl", "usps"), default="mnist",
                        help="where the digits come from (default mnist: its test split, "
                             "from --data or $PADDLE_MNIST_DATA)")
    parser.add_argument("--count", type=int, default=500, help="pictures (default 500)")
    parser.add_argument("--seed", type=int, default=13, help="which digits and looks "
                                                             "(default 13)")
    parser.add_argument("--digits", type=int, nargs=2, default=(2, 8), metavar=("MIN", "MAX"),
                        help="digits per number (default 2 8)")
    parser.add_argument("--data", metavar="DIR", help="MNIST folder (default $PADDLE_MNIST_DATA)")
    parser.add_argument("--real-digits", default=REAL_DIGITS, metavar="DIR",
                        help=f"the real-digits folder (default {REAL_DIGITS})")


def check(parser, args):
    low, high = args.digits
    if args.count < 1 or not 1 <= low <= high <= 20:
        parser.error("--count must be at least 1 and --digits MIN MAX within 1..20")


def main(args):
    import numpy as np

    from ..bench.numbers import write_set

    if args.source == "mnist":
        from ..data.source import read_mnist

        digits, labels = read_mnist(args.data, "test")
        real = False
    else:
        from ..data.folders import read_labelled_folder
        from ..images import load_image, to_gray
        from ..preprocess import undo_pixel_upscaling

        items = read_labelled_folder(os.path.join(args.real_digits, args.source))
        # the scans are stored enlarged (x4, x8); composed at their own resolution
        digits = [undo_pixel_upscaling(to_gray(load_image(path))) for path, _ in items]
        labels = [label for _, label in items]
        real = True
    if args.digits[1] > len(digits):
        from ..errors import DataError

        raise DataError(f"only {len(digits)} digits to compose from; lower --digits")
    paths = write_set(args.out, digits, np.asarray(labels), args.count, args.seed,
                      tuple(args.digits), real)
    print(f"wrote {len(paths)} pictures of numbers to {args.out}")
