"""The exceptions of vbq: one class per category of the C++ library's vbq::Error
(lib/vbq/error.hpp). str(e) is the message `vbq` prints after "vbq CMD: KIND: "."""


class Error(Exception):
    """Base class of every vbq error. `category` is one of argument, io, format,
    corrupt, unsupported, interrupted; `exit_code` is what the `vbq` command
    would exit with."""

    category = "error"
    exit_code = 1

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class ArgumentError(Error, ValueError):
    """A bad option or parameter value from the caller."""
    category, exit_code = "argument", 1


class IoError(Error, OSError):
    """Opening, reading, writing or renaming a file failed."""
    category, exit_code = "io", 2

    def __init__(self, message):
        Error.__init__(self, message)

    def __str__(self):
        return self.message


class FormatError(Error, ValueError):
    """The input is not what it claims to be (not HDF5, wrong dtype, bad shape)."""
    category, exit_code = "format", 3


class CorruptError(Error, ValueError):
    """A container fails its checks (checksum, bounds, truncation)."""
    category, exit_code = "corrupt", 4


class UnsupportedError(Error):
    """Valid but not handled (unknown major version, a setting the Dask path lacks)."""
    category, exit_code = "unsupported", 5


class InterruptedError_(Error):
    """The work was interrupted."""
    category, exit_code = "interrupted", 130


_BY_CATEGORY = {c.category: c for c in (ArgumentError, IoError, FormatError, CorruptError, UnsupportedError,
                                        InterruptedError_)}


def error_class(category):
    """The class of a category name (used by the C++ module)."""
    return _BY_CATEGORY.get(category, Error)
