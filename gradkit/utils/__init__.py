"""gradkit.utils: helpers around training, shaped like ``torch.utils`` (``gk.utils.data.DataLoader``)."""
from . import data

__all__ = ["data"]
