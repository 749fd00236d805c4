"""`python -m paddle_mnist COMMAND ...`: the same as the `paddle-mnist` console script."""

from .commands import main

main()
