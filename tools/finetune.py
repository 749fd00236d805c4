"""Fine-tune a checkpoint at a lower learning rate into a new checkpoint.

The same as `paddle-mnist finetune`; `python tools/finetune.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("finetune")
