"""Commands ``giantstep population`` and ``giantstep train``: the simulated population and the readiness model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from webapp import paths
from webapp.cli_support import RULE_SET, rule_book


@click.command()
@click.option("--rows", type=click.IntRange(min=100), default=None,
              help="Number of firms (default: data/population/population.toml [meta]).")
@click.option("--seed", type=int, default=None, help="Seed of every draw (default: population.toml [meta]).")
@click.option("--rules", type=RULE_SET,
              help="SME rule set of the outcomes (default: in force today).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Output file: .csv, .xlsx or .parquet.")
def population(rows, seed, rules, output):
    """Write a simulated population of firms with an outcome per tier, reproducible from --seed."""
    from webapp.engine.io.tables import write_table
    from webapp.engine.readiness.population.simulate import simulate_population

    pop = simulate_population(rows, seed=seed, rules=rules, rule_book=rule_book())
    try:
        write_table(pop.to_frame(), output)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{output}: {exc}") from None
    info = pop.info
    click.echo(f"{info['rows']} firms, seed {info['seed']}, rules {info['rules']['sme']}, "
               f"SHA-256 {info['sha256'][:16]} -> {output}", err=True)
    for c in info["calibration"]:
        click.echo(f"  {c['tier']:<16} {c['group']:<14} target {c['target']:.2f} achieved {c['achieved']:.3f} "
                   f"({c['members']} firms)", err=True)
    click.echo(f"outcomes are under {info['rules']['sme']}: assess the file under the same rules, "
               f"giantstep batch {output} -o OUT --rules {info['rules']['sme']}", err=True)


@click.command()
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Real outcomes: canonical fields plus <tier>_certified (yes/no) and <tier>_year columns.")
@click.option("--rows", type=click.IntRange(min=1000), default=None, help="Simulated firms (without --labels).")
@click.option("--seed", type=int, default=None, help="Seed of the population, split, masks and estimators.")
@click.option("--rules", type=RULE_SET,
              help="Train the model of this SME rule set only (default: one model per SME rule set; with "
                   "--labels, the rule set of the outcomes, default the one in force today).")
@click.option("-o", "--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: models/ for the simulated default, "
                   "<instance>/models for real outcomes, as a new version).")
def train(labels, rows, seed, rules, out_dir):
    """Train the readiness model on the simulated population, or retrain it on real outcomes (--labels)."""
    from webapp.engine.readiness import build
    from webapp.engine.readiness.store import ModelError, load_model, save_model

    book = rule_book()
    if labels is None:
        model, name, folder = build.train_default(rows, seed, rules=rules, rule_book=book), "readiness", \
            out_dir or paths.resolve().models
    else:
        try:
            base = load_model(rule_book=book)
        except ModelError:
            base = None
        try:
            model, problems = build.train_on_outcomes(labels, rules=rules, seed=seed, base=base, rule_book=book)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        for line in problems:
            click.echo(f"skipped {line}", err=True)
        name, folder = model.metadata["model_version"], out_dir or paths.resolve().retrained_models
    path = save_model(model, folder, name=name)
    _report(model, path)


def _report(model, path: Path) -> None:
    """Echo what was written and the held-out figures of each rule set's model."""
    meta = model.metadata
    models = [model, *model.siblings.values()]
    seconds = sum(sum(m.metadata["training"]["seconds"].values()) for m in models)
    click.echo(f"wrote {path} ({meta['artefact']['bytes'] / 1e6:.1f} MB), trained on {meta['trained_on']} "
               f"in {seconds:.1f} s, one model per rule set: {', '.join(model.rule_sets)}", err=True)
    for one in models:
        summary = one.metadata["metrics_summary"]
        click.echo(f" {one.rules}, measured on {next(iter(summary.values()))['evaluated_on']}:", err=True)
        for tier, m in summary.items():
            click.echo(f"  {tier:<16} AUC full {m['roc_auc_full']} quick {m['roc_auc_quick']} (rules "
                       f"{m['baseline_roc_auc_full']}), Brier full {m['brier_full']} quick {m['brier_quick']}, "
                       f"largest calibration gap full {m['max_calibration_gap_full']} quick "
                       f"{m['max_calibration_gap_quick']} random {m['max_calibration_gap_random']}", err=True)


_GROUP = click.Group("model_cli", commands={"population": population, "train": train},
                     help="Simulated population and readiness model (also `giantstep population|train`).")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(_GROUP())
