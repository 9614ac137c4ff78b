"""Exceptions raised by lmforecast, each naming exactly what is at fault."""

from __future__ import annotations


class LmforecastError(Exception):
    """Base class of every error raised on purpose by lmforecast."""


class DataContractError(LmforecastError, ValueError):
    """Raw input breaks the data contract.

    The message names the file, the row (1-based line number in the file, header = line 1),
    the column, the offending value and what was expected, so the user can fix the file.
    """

    def __init__(
        self,
        file: str,
        column: str | None,
        row: int | None,
        value: object,
        expected: str,
        hint: str | None = None,
    ) -> None:
        self.file = str(file)
        self.column = column
        self.row = row
        self.value = value
        self.expected = expected
        self.hint = hint
        where = [f"file {self.file!s}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        msg = f"{', '.join(where)}: got {value!r}, expected {expected}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class PanelError(LmforecastError, ValueError):
    """An xarray panel does not follow the panel contract (see :mod:`lmforecast.panel`)."""


class NotFittedError(LmforecastError, AttributeError):
    """A forecaster was asked to predict before ``fit`` was called."""


class ConfigError(LmforecastError, ValueError):
    """A run's settings cannot work together (e.g. no model, report years before the data end)."""


class TrackingError(LmforecastError, RuntimeError):
    """The tracking store cannot be reached or used; the message names the URI and the way out."""
