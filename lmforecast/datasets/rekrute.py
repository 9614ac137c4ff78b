"""Real Moroccan job ads: the ReKrute job-board sample (``../shared/data/ma-rekrute-sample``).

The sample (865 ads scraped from ReKrute.com around 2022, two Weka ARFF files; see its
``SOURCE.txt``) holds French and English job titles and the board's own region labels
(``Casablanca et région - Maroc``, ``Tout le Maroc``), so it shows how region normalisation and
title coding behave on real text. It has **no posting date**: :func:`rekrute_offers` dates every
ad to one day (``posted_on``, default the scrape month), so a panel built from it has a single
period and says nothing about time.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

#: the two files of the sample
FILES = ("offre3.arff", "offre1_arf.arff")
#: the day every ad is dated to (the sample was scraped in June 2022)
SCRAPE_DAY = "2022-06-01"


def read_arff(source) -> pd.DataFrame:
    """The data rows of a Weka ARFF file with quoted values (``\\'`` escapes), as text columns.

    Parameters
    ----------
    source : path of the file, or a text stream.

    Returns
    -------
    DataFrame with one text column per ``@attribute``, in file order.

    Raises
    ------
    ValueError naming the first row whose number of fields differs from the attributes.

    Examples
    --------
    >>> import io
    >>> text = "@relation ads\\n@attribute id numeric\\n@attribute poste string\\n@data\\n1,'Data Scientist'\\n"
    >>> read_arff(io.StringIO(text)).to_dict("records")
    [{'id': '1', 'poste': 'Data Scientist'}]
    """
    text = source.read() if hasattr(source, "read") else Path(source).read_text(encoding="utf-8")
    header, _, data = text.partition("@data")
    columns = [line.split()[1] for line in header.splitlines() if line.lower().startswith("@attribute")]
    rows = list(csv.reader(io.StringIO(data.strip()), quotechar="'", escapechar="\\"))
    for number, row in enumerate(rows, start=1):
        if len(row) != len(columns):
            raise ValueError(f"{source}: data row {number} has {len(row)} fields, expected {len(columns)} "
                             f"({columns}): {row[:3]}")
    return pd.DataFrame(rows, columns=columns)


def rekrute_offers(folder: str | os.PathLike, posted_on: str = SCRAPE_DAY) -> pd.DataFrame:
    """The sample as an offers table of the raw data contract (``offers.csv``).

    Parameters
    ----------
    folder : the sample folder (``../shared/data/ma-rekrute-sample`` from the project root).
    posted_on : the date given to every ad (``YYYY-MM-DD``): the sample has none.

    Returns
    -------
    DataFrame ``offer_id`` (``<file>:<id>``), ``posted_on``, ``region`` (the board's label),
    ``title`` (as published), ``occupation`` (empty: coded from the title), ``source``
    (``rekrute``), ``company``; one row per ad of both files.

    Examples
    --------
    >>> from pathlib import Path
    >>> folder = Path("../shared/data/ma-rekrute-sample")
    >>> offers = rekrute_offers(folder) if folder.is_dir() else None
    >>> offers is None or list(offers.columns) == ["offer_id", "posted_on", "region", "title", "occupation",
    ...                                            "source", "company"]
    True
    """
    folder = Path(folder)
    frames = []
    for name in FILES:
        ads = read_arff(folder / name)
        frames.append(pd.DataFrame({
            "offer_id": Path(name).stem + ":" + ads["id"], "posted_on": posted_on, "region": ads["region"],
            "title": ads["poste"].str.strip(), "occupation": "", "source": "rekrute", "company": ads["entreprise"]}))
    return pd.concat(frames, ignore_index=True)
