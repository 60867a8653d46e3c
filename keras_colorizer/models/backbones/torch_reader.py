"""Read a PyTorch state dict in the legacy (non-zip) `torch.save` format, without PyTorch and without running its pickle.

The file is a sequence of pickles (a magic number, the protocol version, the
system's type sizes, the state dict, the storage keys) followed by the raw
storages. The state dict's pickle names a few globals: an ordered dict, the
function that rebuilds a tensor from a storage, and the storage types. The
reader's unpickler resolves exactly those to inert stand-ins of its own and
refuses any other global with a one-line error before anything is called, so
a file that names `os.system` or anything else runs nothing. Tensors come
back as NumPy arrays built from the raw bytes with their sizes and strides.
"""

import collections
import pickle
import struct

import numpy as np

from keras_colorizer.errors import UserError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFileError(UserError):
    """A weights file that is not a plain legacy PyTorch state dict, or names code to run."""


class _StorageType:
    def __init__(self, name):
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _TensorRef:
    """What the pickle describes for a tensor: its storage key, offset, size and stride."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *rest):
    return _TensorRef(storage, storage_offset, size, stride)


class _DataOnlyUnpickler(pickle.Unpickler):
    """Resolves the globals of a state dict to inert stand-ins; refuses every other global."""

    def __init__(self, file, path):
        super().__init__(file)
        self.path = path
        self.storage_dtypes = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise TorchFileError(
            f"{self.path}: refers to {module}.{name}, which a weights file has no need of; refused "
            "(only tensors and ordered dicts are read, and nothing in the file is run)"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise TorchFileError(f"{self.path}: holds a persistent object that is not a tensor storage; refused")
        _, storage_type, key, _location, _numel = pid[:5]
        self.storage_dtypes[str(key)] = storage_type.dtype
        return str(key)


def _load(file, path, unpickler=None):
    try:
        return (unpickler or _DataOnlyUnpickler(file, path)).load()
    except TorchFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged pickle raises many types
        raise TorchFileError(f"{path}: not a readable legacy PyTorch file ({type(error).__name__}: {error})") from None


def read_state_dict(path):
    """The state dict of a legacy-format `.pth` file as an ordered dict of NumPy arrays."""
    with open(path, "rb") as f:
        magic = _load(f, path)
        if magic != LEGACY_MAGIC:
            raise TorchFileError(f"{path}: not a legacy PyTorch file (its first value is not the format's magic number)")
        protocol = _load(f, path)
        if protocol != LEGACY_PROTOCOL:
            raise TorchFileError(f"{path}: legacy PyTorch protocol {protocol}, expected {LEGACY_PROTOCOL}")
        _load(f, path)  # system info: type sizes, byte order
        unpickler = _DataOnlyUnpickler(f, path)
        state = _load(f, path, unpickler)
        keys = _load(f, path)
        if not isinstance(state, collections.OrderedDict) or not isinstance(keys, list):
            raise TorchFileError(f"{path}: does not hold a state dict (an ordered dict of tensors)")
        storages = {}
        for key in map(str, keys):
            if key not in unpickler.storage_dtypes:
                raise TorchFileError(f"{path}: lists storage {key}, which no tensor uses")
            dtype = unpickler.storage_dtypes[key]
            header = f.read(8)
            if len(header) != 8:
                raise TorchFileError(f"{path}: ends inside its tensor data (storage {key})")
            (count,) = struct.unpack("<q", header)
            raw = f.read(count * dtype.itemsize)
            if count < 0 or len(raw) != count * dtype.itemsize:
                raise TorchFileError(f"{path}: storage {key} is cut short ({len(raw)} of {count * dtype.itemsize} bytes)")
            storages[key] = np.frombuffer(raw, dtype=dtype)
    arrays = collections.OrderedDict()
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef) or ref.storage not in storages:
            raise TorchFileError(f"{path}: entry {name!r} is not a tensor with its data in the file")
        flat = storages[ref.storage]
        dtype = flat.dtype
        strides = tuple(s * dtype.itemsize for s in ref.stride)
        end = ref.offset + (sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) + 1 if all(ref.size) else 0)
        if end > flat.size:
            raise TorchFileError(f"{path}: tensor {name!r} reaches past its storage")
        view = np.lib.stride_tricks.as_strided(flat[ref.offset:], shape=ref.size, strides=strides)
        arrays[name] = np.ascontiguousarray(view)  # a copy, in C order
    return arrays
