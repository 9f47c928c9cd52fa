"""Arrays misaligned in memory, as a dask worker may hold a block it received
from another worker (a view of the message's buffer at any byte offset)."""

import numpy as np


def misaligned_copy(array):
    """A copy of ``array`` one byte into its buffer (``flags.aligned`` False).

    Examples
    --------
    >>> misaligned_copy(np.zeros(3)).flags.aligned
    False
    """
    buffer = np.empty(array.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(buffer.data, dtype=array.dtype, count=array.size,
                        offset=1).reshape(array.shape)
    out[...] = array
    return out
