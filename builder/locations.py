"""Where article files live: local paths, or any pyarrow filesystem URI (`s3://bucket/prefix`,
`file:///abs/path`, `gs://…`, `hdfs://…`).

The readers in builder/sources.py open files through this layer only; a name is a plain
string everywhere else, so a diagnostic names a file by the URI the user gave (the folder's URI
plus the file's path under it). Local paths take the plain `open`/`os` route, unchanged.
A filesystem that no URI can name (an fsspec filesystem, a test's in-memory one) is `mounted`
under a scheme of its own for the duration of a call.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # imported for URIs only: local paths take the `os` route
    import pyarrow.fs as pafs

URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_mounted: dict[str, pafs.FileSystem] = {}


def is_uri(name: str) -> bool:
    return URI.match(name) is not None


@contextmanager
def mounted(scheme: str, filesystem: pafs.FileSystem) -> Iterator[None]:
    """Names `<scheme>://path` mean `path` on `filesystem` inside the block (in this process and
    in the local engine's forked workers)."""
    before = _mounted.get(scheme)
    _mounted[scheme] = filesystem
    try:
        yield
    finally:
        if before is None:
            _mounted.pop(scheme, None)
        else:
            _mounted[scheme] = before


@functools.lru_cache(maxsize=64)
def root_filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of `scheme://authority/` and the path that root has on it (made once: an
    object store's filesystem may look up its region)."""
    import pyarrow.fs as pafs

    return pafs.FileSystem.from_uri(root)


def resolve(name: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of a URI and the file's path on it."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    match = URI.match(name)
    if match is None:
        return pafs.LocalFileSystem(), os.path.abspath(name)
    scheme, rest = match["scheme"], match["rest"]
    if scheme in _mounted:
        return _mounted[scheme], rest
    authority, _, path = rest.partition("/")
    try:
        filesystem, base = root_filesystem(f"{scheme}://{authority}/")
    except (ValueError, pa.ArrowException) as err:  # an unknown scheme, a bad authority
        raise OSError(f"{scheme}://{authority}/ is not a filesystem pyarrow can open: {err}") from err
    return filesystem, base.rstrip("/") + "/" + path if path else base


def info(name: str) -> pafs.FileInfo | None:
    """What the filesystem says of a URI; None if it cannot say (the open will tell why)."""
    try:
        filesystem, path = resolve(name)
        return filesystem.get_file_info(path)
    except OSError:
        return None


def open_binary(name: str) -> IO[bytes]:
    """A buffered, seekable binary file (lines can be iterated); OSError if it cannot be opened."""
    if not is_uri(name):
        return open(name, "rb")  # the caller closes it
    filesystem, path = resolve(name)
    return io.BufferedReader(filesystem.open_input_file(path))  # type: ignore[arg-type]


def read_bytes(name: str) -> bytes:
    with open_binary(name) as handle:
        return handle.read()


def exists(name: str) -> bool:
    """False only for what is known to be missing: a URI that cannot be asked about is tried,
    so that opening it reports the filesystem's own error."""
    if not is_uri(name):
        return os.path.exists(name)
    import pyarrow.fs as pafs

    found = info(name)
    return found is None or found.type != pafs.FileType.NotFound


def is_dir(name: str) -> bool:
    if not is_uri(name):
        return os.path.isdir(name)
    import pyarrow.fs as pafs

    found = info(name)
    return found is not None and found.type == pafs.FileType.Directory


def size(name: str) -> int:
    """The size of a file in bytes; 0 for anything that is not a file."""
    if not is_uri(name):
        return os.path.getsize(name) if os.path.isfile(name) else 0
    import pyarrow.fs as pafs

    found = info(name)
    return (found.size or 0) if found is not None and found.type == pafs.FileType.File else 0


def files_under(folder: str, wanted: Callable[[str], bool]) -> list[str]:
    """The files under a folder URI whose base name is `wanted`, none under a hidden folder, in
    sorted order, each named as the folder's URI followed by its path under it."""
    import pyarrow.fs as pafs

    filesystem, base = resolve(folder)
    found = filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
    prefix = base.strip("/")
    out = []
    for entry in found:
        if entry.type != pafs.FileType.File:
            continue
        relative = entry.path.strip("/")[len(prefix) :].lstrip("/")
        parts = relative.split("/")
        if any(p.startswith(".") for p in parts[:-1]) or not wanted(parts[-1]):
            continue
        out.append(folder.rstrip("/") + "/" + relative)
    return sorted(out)
