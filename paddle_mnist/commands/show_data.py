"""Draw a grid of MNIST training images and the class balance of train and test.

    python tools/show_data.py                          # -> data.png
    python tools/show_data.py --augment -o augment.png # each image above its augmented copy
    python tools/show_data.py -c configs/lenet_bn_aug.yml --augment   # that config's settings

--augment shows what `data.augment` (rotation, shift, scale) does to the very
images above, through the training loader itself.
"""

from .. import cli


def add_arguments(parser):
    cli.add_config_args(parser)
    parser.add_argument("--augment", action="store_true",
                        help="show each image next to its augmented version")
    parser.add_argument("--count", type=int, default=30, help="training images to show")
    parser.add_argument("--seed", type=int, default=0, help="which random images to pick")
    parser.add_argument("--out", default="data.png", metavar="PNG",
                        help="image to write (default: data.png)")


def check(parser, args):
    if not 1 <= args.count <= 200:
        parser.error("--count must be between 1 and 200")
    if args.augment:  # whole rows, so every augmented copy sits right below its original
        args.count = -(-args.count // 10) * 10


def augmented(images, labels, conf, seed):
    """The images after one pass through the training loader's augmentation, as uint8."""
    import numpy as np

    from ..data import ArrayDataset, BatchLoader

    conf.data.augment.enabled = True
    dataset = ArrayDataset(images, labels, 28, conf.data.mean, conf.data.std)
    loader = BatchLoader(dataset, len(labels), seed=seed, augment=conf.data.augment, shuffle=False)
    batch = next(iter(loader))[0].numpy()[:, 0]
    return np.clip(batch * conf.data.std + conf.data.mean, 0, 255).round().astype(np.uint8)


def main(args):
    import numpy as np

    from ..config import load_config
    from ..data import read_mnist
    from ..reports import figures

    conf = load_config(args.config, args.overrides)
    images, labels = read_mnist(conf.data.root, "train")
    test_labels = read_mnist(conf.data.root, "test")[1]
    picked = np.random.RandomState(args.seed).choice(len(labels), args.count, replace=False)
    shown, captions = images[picked], [str(label) for label in labels[picked]]
    if args.augment:
        moved = augmented(shown, labels[picked], conf, args.seed)
        rows = [(shown[i:i + 10], captions[i:i + 10], moved[i:i + 10],
                 [f"{c} aug" for c in captions[i:i + 10]]) for i in range(0, args.count, 10)]
        shown = np.concatenate([np.concatenate([a, b]) for a, _, b, _ in rows])
        captions = [c for _, a, _, b in rows for c in a + b]
    counts = {"train": np.bincount(labels, minlength=10).tolist(),
              "test": np.bincount(test_labels, minlength=10).tolist()}
    title = "MNIST training images" + (" and their augmented copies" if args.augment else "")
    figures.data_overview_png(shown, captions, counts, args.out, title)
    for split, values in counts.items():
        print(f"{split}: {sum(values)} images; per digit: {values}")
    print(f"wrote {args.out}")

