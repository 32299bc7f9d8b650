"""``gk.cuda``: what PyTorch code asks before using a GPU. gradkit has none, so the answer is no.

    device = "cuda" if gk.cuda.is_available() else "cpu"     # runs unchanged: picks "cpu"
"""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """PyTorch code seeds the GPUs too; with none there is nothing to seed."""


manual_seed_all = manual_seed
