"""Table formats and the error every reader and writer raises: one problem a line, in Chinese and English."""

from __future__ import annotations

from pathlib import Path

FORMATS = (".csv", ".xlsx", ".parquet")


class TableError(ValueError):
    """A table that cannot be read or written as a whole; ``problems`` are ``(rule, message_zh, message_en)``.

    ``str(error)`` is the English messages joined by "; " (a ValueError like any other input problem);
    :meth:`lines` gives one line a problem in the user's language, for the command line and the job pages.
    """

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = list(problems)
        super().__init__("; ".join(en for _, _, en in self.problems))

    def lines(self, lang: str = "en") -> list[str]:
        """One message a problem, in ``lang`` ("zh" or "en")."""
        return [zh if lang == "zh" else en for _, zh, en in self.problems]

    @property
    def message_zh(self) -> str:
        """All problems in Chinese (what the job pages show)."""
        return self.message("zh")

    @property
    def message_en(self) -> str:
        """All problems in English."""
        return self.message("en")

    def message(self, lang: str = "en") -> str:
        """All problems as one text in ``lang``."""
        return ("；" if lang == "zh" else "; ").join(self.lines(lang))


def table_format(source, fmt: str | None = None) -> str:
    """The table format of a file, from ``fmt`` or the file name's extension.

    Parameters
    ----------
    source : str, pathlib.Path or file-like
        A path, or a stream with a ``filename`` or ``name`` attribute.
    fmt : str, optional
        ".csv", ".xlsx" or ".parquet" (the dot may be left out); overrides the extension.

    Returns
    -------
    str
        ".csv", ".xlsx" or ".parquet".

    Raises
    ------
    TableError
        If the format is not one of ``FORMATS`` (rule ``format``).
    """
    name = getattr(source, "filename", None) or getattr(source, "name", None) or source
    suffix = (fmt if fmt is not None else Path(str(name)).suffix).lower()
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    if suffix not in FORMATS:
        raise TableError([("format", f"不支持的表格格式 {suffix!r}（{name!s}）：请使用 .csv、.xlsx 或 .parquet",
                           f"unsupported table format {suffix!r} for {name!s}: use .csv, .xlsx or .parquet")])
    return suffix
