"""benchmarks.calibration_seeds: several fresh seeds, artefacts side by side on the same firms and masks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.calibration_seeds import main, persistent, seed_list

ROOT = Path(__file__).resolve().parents[1]


def test_seed_list_reads_ranges_and_lists():
    assert seed_list("71001-71003,5") == [71001, 71002, 71003, 5]


def test_artefacts_are_compared_on_the_same_firms(tmp_path, capsys):
    table = tmp_path / "bins.csv"
    shipped = ROOT / "models"
    assert main(["--rows", "3000", "--seeds", "5-6", "--models", "models", str(shipped), "--table", str(table)]) == 0
    bins = pd.read_csv(table)
    assert set(bins["seed"]) == {5, 6}
    assert set(bins["profile"]) == {"full", "quick", "random0.2", "random0.5", "random0.8"}
    one, two = (bins[bins["model"] == name].drop(columns="model").reset_index(drop=True)
                for name in ("models", str(shipped)))
    pd.testing.assert_frame_equal(one, two)   # the same artefact twice: the same firms, masks and bins
    assert (bins.groupby(["model", "seed", "profile", "tier"])["n"].sum() == 3000).all()   # every firm binned once
    out = capsys.readouterr().out
    assert out.count("bins of 100+ firms") == 2 and "chance alone" in out
    cells = persistent(bins[bins["model"] == "models"], 2)
    assert (cells["seeds"] == 2).all() and (cells["pooled_z"].abs() > 3).all()
