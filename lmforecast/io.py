"""Atomic file output and content hashing.

Every writer in lmforecast goes through :func:`atomic_path`: the data are written to a temporary
file in the destination folder, forced to disk (``os.fsync``), then renamed over the destination
and the folder entry is synced too, so that a crash never leaves a half-written panel, backtest or
report behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``destination``; rename it into place on success.

    After the ``with`` block the temporary file is ``fsync``-ed, renamed over ``destination``
    (``os.replace``, atomic on POSIX) and the folder is ``fsync``-ed, so the new content is on
    disk before anyone can see it. On any exception the temporary file is removed and
    ``destination`` is left untouched.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the result the usual permissions (0666 minus umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        _fsync(tmp)
        os.replace(tmp, destination)
        _fsync_folder(destination.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync(path: Path) -> None:
    """Force a written file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Force a folder entry (a rename into it) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(destination: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``destination`` atomically; return the destination path."""
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(destination)


def write_csv_atomic(frame: pd.DataFrame, destination: str | os.PathLike, **to_csv_kw) -> Path:
    """Write a DataFrame to CSV atomically (``index=False`` unless given); return the path."""
    to_csv_kw.setdefault("index", False)
    with atomic_path(destination) as tmp:
        frame.to_csv(tmp, **to_csv_kw)
    return Path(destination)


def write_parquet_atomic(frame: pd.DataFrame, destination: str | os.PathLike) -> Path:
    """Write a DataFrame to Parquet atomically (no index); return the path."""
    with atomic_path(destination) as tmp:
        frame.to_parquet(tmp, index=False)
    return Path(destination)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (created if needed) for a ``with`` block; yield the path.

    Processes on one machine that take the same lock run the block one at a time (``fcntl.flock``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def folder_lock(folder: str | os.PathLike):
    """:func:`file_lock` on a lock file for ``folder`` kept in the temp directory, not in the folder.

    For folders that must not be touched (``data/raw``): jobs of a sweep that would generate or
    build the same data set wait for each other instead of racing.
    """
    key = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return file_lock(Path(tempfile.gettempdir()) / f"lmforecast-{key}.lock")


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(block)
    return digest.hexdigest()


def write_netcdf_atomic(dataset, destination: str | os.PathLike, compress: bool = True,
                        float32: bool | Sequence[str] = False, decimals: int | None = None) -> Path:
    """Write an ``xarray.Dataset`` to NetCDF4 atomically; return the path.

    Parameters
    ----------
    dataset : the Dataset to write.
    destination : ``.nc`` path (folders are created).
    compress : zlib-compress float variables (level 4, byte shuffle: lossless).
    float32 : store float variables as 32-bit floats (about 7 significant digits; half the
        bytes): True for every float variable, or the names of the variables to store so.
        Reading gives float32 arrays back. Default False: exact float64.
    decimals : keep float variables to this many decimal places (netCDF4's
        ``least_significant_digit`` quantisation: the values then compress far better); None keeps
        every bit.

    Dataset and variable attrs that are dicts/lists become JSON strings (NetCDF stores only
    strings and numbers); None attrs are dropped.
    """
    import json

    def clean(attrs: dict) -> dict:
        out = {}
        for key, value in attrs.items():
            if isinstance(value, (dict, list, tuple)):
                out[key] = json.dumps(value, sort_keys=True)
            elif isinstance(value, bool):
                out[key] = int(value)
            elif value is not None:
                out[key] = value
        return out

    ds = dataset.copy()
    ds.attrs = clean(ds.attrs)
    for name in list(ds.variables):
        ds[name].attrs = clean(ds[name].attrs)
    encoding: dict = {}
    for name in ds.data_vars:
        if ds[name].dtype.kind != "f":
            continue
        if compress:
            encoding[name] = {"zlib": True, "complevel": 4, "shuffle": True}
        if float32 is True or (not isinstance(float32, bool) and name in set(float32)):
            encoding.setdefault(name, {})["dtype"] = "float32"
        if decimals is not None:
            encoding.setdefault(name, {})["least_significant_digit"] = int(decimals)
    destination = Path(destination)
    with atomic_path(destination) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    return destination


def read_netcdf(path: str | os.PathLike, what: str = "file", hint: str = ""):
    """Read a NetCDF file written by :func:`write_netcdf_atomic` fully into memory.

    String coordinates come back as ``str`` (not ``object``). ``what`` and ``hint`` word the
    FileNotFoundError raised when ``path`` does not exist.
    """
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no {what} at {path}" + (f"; {hint}" if hint else ""))
    with xr.open_dataset(path, engine="netcdf4") as ds:
        loaded = ds.load()
    for name in list(loaded.coords):
        if loaded[name].dtype == object:
            loaded[name] = loaded[name].astype(str)
    for name in loaded.variables:
        loaded[name].encoding.pop("encoding", None)
    return loaded
