"""The experiment configs. They live here, at the top of a checkout, so that
`-c configs/lenet.yml` works as in the tutorials, and the wheel installs them as
`paddle_mnist.configs`, so that `-c lenet` works wherever the package is installed."""
