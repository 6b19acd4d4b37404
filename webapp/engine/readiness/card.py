"""The model card (MODEL_CARD.md) of a readiness artefact, written from its metadata alone."""

from __future__ import annotations

from webapp.engine.readiness.evaluation import z_counts
from webapp.engine.readiness.features import DECREASING, DERIVED, FREE, INCREASING, NOMINAL, ORDINAL

_VARIANT_NAMES = {"full": "full profile (every field known)",
                  "quick": "quick check (only the quick-check fields, as on the first form page)",
                  "random": "partial profile (each field hidden with probability 0.5)",
                  "random0.2": "partial profile (each field hidden with probability 0.2)",
                  "random0.8": "partial profile (each field hidden with probability 0.8)"}
SIM = "simulated"


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return out + [""]


def _hidden_range(config: dict) -> str:
    lo, hi = config.get("calibration_hidden", (0.1, 0.8))
    return f"{lo:g} and {hi:g}"


def _tag(meta: dict) -> str:
    """What every figure of this model is measured on: ``simulated`` unless it was retrained on real outcomes."""
    return SIM if meta["trained_on"] == "simulated population" else "real outcomes"


def _data_section(meta: dict) -> list[str]:
    data = meta.get("data", {})
    if "population" in data:
        pop = data["population"]
        lines = ["### Data: a simulated population", "",
                 f"{pop['rows']:,} simulated firms, seed {pop['seed']}, rules {pop['rules']['sme']}; parameters "
                 f"`data/population` version {pop['params_version']} (SHA-256 {pop['params_sha256'][:12]}…); "
                 f"population SHA-256 {pop['sha256'][:16]}…. Strata (sampling design, not national "
                 "frequencies): " + ", ".join(f"{k} {v:,}" for k, v in pop["strata"].items()) + ".", "",
                 "Outcome = the engine's verdict on the full profile (a title holder judged as a re-review) AND a "
                 "hidden pass for what no input captures (market-share proof, the review panel, provincial "
                 "quotas), whose rate is solved per group to match a pass rate. Published rates and assumed ones "
                 "(no figure is published) are kept apart:", ""]
        for published, title in ((True, "Published pass rates"), (False, "Assumed pass rates (no published figure)")):
            rows = [[c["tier"], c["group"], c["members"], c["rules_met_share"], c["target"], c["achieved"], c["basis"]]
                    for c in pop["calibration"] if bool(c.get("published")) == published]
            if rows:
                lines += [f"**{title}**", ""] + _table(
                    ["tier", "group", "firms (simulated)", "rules met (simulated)", "target rate",
                     "achieved (simulated)", "source" if published else "assumption"], rows)
        lines += ["Title holders are kept when they meet their tier's rules (all but a stated drift share), which "
                  "favours larger firms; the cohort-sourced marginals are shifted on a pilot sample so the kept "
                  "holders keep the cohort means. Cohorts fitted to published aggregates and tier portraits that "
                  "are stated assumptions (no publication gives them) are kept apart:", ""]
        for assumed, title in ((False, "Published cohort means"), (True, "Assumed cohort values (tier portraits)")):
            rows = [[c["stratum"], c["quantity"], c.get("cohort") or "–", c["cohort_mean"], c["simulated_mean"]]
                    for c in pop["cohort_check"] if bool(c.get("assumed")) == assumed]
            if rows:
                lines += [f"**{title}**", ""] + _table(
                    ["stratum", "quantity", "cohort", "assumed mean" if assumed else "published (fitted) mean",
                     "simulated holders' mean"], rows)
        blocks = data.get("calibration_population") or []
        if blocks:
            lines += [f"**Calibration firms.** {sum(b['rows'] for b in blocks):,} more simulated firms fit the "
                      "calibration grids alone (the trees stay as trained above): blocks of seeds "
                      f"{blocks[0]['seed']}-{blocks[-1]['seed']}, drawn like the population above, never used for "
                      "the held-out figures below.", ""]
        return lines
    out = data.get("outcomes", {})
    lines = ["### Data: real outcomes", "", f"File `{out.get('file')}` (SHA-256 {str(out.get('sha256'))[:16]}…): "
             f"{out.get('rows_used')} rows used, {out.get('rows_skipped')} skipped for invalid input.", ""]
    rows = [[t, v["known"], v["certified"], v["years"]] for t, v in out.get("tiers", {}).items()]
    return lines + _table(["tier", "outcomes known", "certified", "years"], rows)


def _where_measured(meta: dict) -> str:
    ev = meta.get("evaluation", {})
    if ev.get("kind") == "fresh population":
        return (f"a **{SIM}** population of seed {ev['seed']} (never used in training or calibration), "
                f"{ev['rows']:,} firms, SHA-256 {str(ev.get('sha256'))[:16]}…, drawn with `giantstep population "
                f"--rows {ev['rows']} --seed {ev['seed']} --rules {meta['rules']['sme']}`")
    return f"{ev.get('rows', meta['training']['split']['test']):,} held-out test firms ({_tag(meta)})"


def _metrics_section(meta: dict) -> list[str]:
    tag = _tag(meta)
    lines = ["### Held-out metrics (" + tag + ")", "",
             f"Measured on {_where_measured(meta)}. Each firm is scored once per profile: "
             + "; ".join(f"**{k}** = {v}" for k, v in _VARIANT_NAMES.items()) + ". The baseline is the rules alone: "
             "the engine's status mapped to 1 (met), 0 (not met) or 0.5 (unknown). Log loss clips probabilities to "
             "[0.001, 0.999] (the model's own range), else the baseline's 0 and 1 would give infinite log loss.", ""]
    rows = []
    for tier, by in meta["metrics"].items():
        for variant, m in by.items():
            rows.append([tier, variant, m["model"]["n"], m["model"]["positives"], m["model"]["roc_auc"],
                         m["model"]["brier"], m["model"]["log_loss"], m["baseline"]["roc_auc"],
                         m["baseline"]["brier"], m["baseline"]["log_loss"]])
    lines += _table(["tier", "profile", f"firms ({tag})", f"certified ({tag})", f"AUC ({tag})", f"Brier ({tag})",
                     f"log loss ({tag})", f"rules AUC ({tag})", f"rules Brier ({tag})", f"rules log loss ({tag})"],
                    rows)
    lines += [f"#### Reliability ({tag}, 10 bins of predicted probability)", "",
              "Mean predicted probability against the observed certification rate of the same firms in each bin; "
              "`gap` is their distance, `se` the bin's binomial standard error at its mean prediction, "
              "sqrt(p(1-p)/n), and `z` the observed rate's distance from the prediction in standard errors. A bin "
              "of 100 firms at a rate of 0.5 has a standard error of 0.05 by itself, so only bins of 100 or more "
              "firms are judged (the largest such gap per profile is in `metrics_summary` as "
              "`max_calibration_gap_<profile>`), and a calibrated model has about 5% of its bins more than 2 "
              "standard errors off by chance. Bins whose prediction sits at the 0.001 floor (gap under 0.002) "
              "read a large z for a gap of 0.001 and are not counted.", ""]
    rows = []
    for tier, by in meta["metrics"].items():
        for variant, m in by.items():
            c = z_counts(m["reliability"])
            rows.append([tier, variant, c["bins"], f"{c['beyond_0.05']} ({c['chance_beyond_0.05']})", c["max_gap"],
                         c["off_floor"],
                         f"{c['z_over_2']} ({c['chance_z_over_2']})", f"{c['z_over_3']} ({c['chance_z_over_3']})"])
    lines += _table(["tier", "profile", "bins of 100+ firms", "beyond 0.05 (chance)", "largest gap",
                     "bins off the floor", "z beyond ±2 (chance)", "z beyond ±3 (chance)"], rows)
    for tier, by in meta["metrics"].items():
        rows = [[variant, r["bin"], r["n"], r["mean_predicted"], r["observed"], r["gap"], r.get("se"),
                 None if r.get("z") is None else f"{r['z']:+.2f}"]
                for variant, m in by.items() for r in m["reliability"] if r["n"]]
        lines += [f"**{tier}**", ""] + _table(["profile", "bin", "n", "predicted", f"observed ({tag})", "gap", "se",
                                               "z"], rows)
    return lines


def _rule_set_section(meta: dict) -> list[str]:
    """Training, data and metrics of one rule set's model."""
    training = meta["training"]
    lines = [f"## Rules {meta['rules']['sme']}", "",
             f"Rule tables {', '.join(f'{k} {v}' for k, v in meta['rule_versions'].items())}; trained on "
             f"**{meta['trained_on']}**. Firms split {training['split']} (training / calibration / test), seed "
             f"{training['seed']}; {sum(training.get('seconds', {}).values()):.1f} s.", ""]
    rows = [[t, v.get("trained_on"), v.get("rows"), v.get("positives"), v.get("calibration_rows"),
             v.get("extra_calibration_rows", 0), v.get("iterations"), v.get("gate_not_met")]
            for t, v in meta["tiers"].items()]
    lines += _table(["tier", "trained on", "training rows", "certified rows", "calibration rows (split)",
                     "calibration rows (extra firms)", "trees", "gate_not_met"], rows)
    return lines + _data_section(meta) + _metrics_section(meta)


def model_card(meta: dict) -> str:
    """Render the model card of the artefact described by ``meta`` (its metadata JSON) as Markdown."""
    simulated = meta["trained_on"] == "simulated population"
    art = meta.get("artefact", {})
    models = [meta, *meta.get("siblings", {}).values()]
    rule_sets = [m["rules"]["sme"] for m in models]
    config = meta["training"]["config"]
    lines = [
        "# GiantStep readiness model", "",
        f"Version `{meta['model_version']}`, trained {meta['trained_at']} on **{meta['trained_on']}**; one model "
        f"per SME rule set: {', '.join(rule_sets)}. "
        f"Artefact `{art.get('file')}` ({art.get('bytes', 0) / 1e6:.1f} MB, SHA-256 {str(art.get('sha256'))[:16]}…); "
        "libraries " + ", ".join(f"{k} {v}" for k, v in meta["libraries"].items()) + ". Every metric below is "
        f"measured on {'simulated firms and marked (simulated)' if simulated else 'the outcomes named below'}.", "",
        f"Reproduce with `{meta['command']}` (or `python -m webapp.model_cli train ...`): the same seed, parameter "
        "files, rule tables and library versions give the same populations and the same figures below.", "",
        "## What it is for", "",
        "For a firm's profile, complete or partial, the probability per tier (innovative_sme, tech_sme, srdi_sme, "
        "little_giant, single_champion) that it is certified if it applies now, or passes re-review if it holds "
        "the title, under the SME rule set of its assessment; and the fields that would raise it most "
        "(re-prediction with each field moved to the tier's typical value). It complements the rules: the engine "
        "says pass/fail on what is known; this says how likely, given what is known.", "",
        "## One model per rule set", "",
        "Readiness is computed under the rules the firm is assessed by: an SME-2022 assessment is answered by the "
        "SME-2022 model, an SME-2026 one by the SME-2026 model, and the result's `readiness._model.rules` names it. "
        "A model per rule set rather than the rule set as a feature, because the rule set decides both sides of "
        "what is learnt: the features are the engine's statuses and score ranges under that rule set, and the "
        "outcomes come from a population simulated under it (holders kept when they meet its rules, pass rates "
        "solved under it). Separate models are each calibrated on their own population, so one rule set's "
        "calibration cannot be traded against the other's; retraining one rule set on real outcomes leaves the "
        "other untouched; a new rule set is one more model. The cost is training and storing each (the artefact "
        "holds both).", "",
        "## What it is not", "",
        ("- **Not trained on real firms.** No firm-level outcome data is public. The model learnt from a simulated "
         "population whose distributions are fitted to published aggregates and whose pass rates are set to the "
         "published ones (or stated assumptions where none is published); it reproduces those aggregates, not the "
         "real joint distribution of firms, and every figure on this card is a simulated one. Retrain with "
         "`giantstep train --labels OUTCOMES.csv` when real outcomes exist." if simulated else
         "- **Trained on the outcomes in the file below only**: it knows nothing the file does not show."),
        "- Not an official assessment, and not a forecast of quotas or of a panel's decision in a given year.",
        "- Probabilities of partial profiles are relative to the training mix of firms (the strata below), not to "
        "all Chinese SMEs.",
        "- Probabilities stay within [0.001, 0.999]; where the rules are certainly not met and no such firm was "
        "certified in training, the answer is 0.001 without consulting the trees (`gate_not_met`).", "",
        "## Features and monotonicity", "",
        f"{len(meta['features']['names'])} features: every non-text registry field (unknown = missing, handled "
        "natively), derived ratios, and the engine's status per tier (not met < unknown < met) and score range "
        "where scored. Monotonic constraints hold on the raw fields a user changes:", "",
        f"- never lowers the probability when it rises (+1): {', '.join(INCREASING + ORDINAL)};",
        f"- never raises it when it rises (-1): {', '.join(DECREASING)};",
        f"- free (the rules pull both ways, e.g. more revenue at fixed R&D lowers R&D intensity and can fail the "
        f"SME size test): {', '.join(FREE)}; and the nominal {', '.join(NOMINAL)} (as codes);",
        f"- derived, +1, each monotone in its constrained input and otherwise built from free fields: "
        f"{', '.join(DERIVED)};",
        "- engine statuses and score ranges, +1: they never fall when a +1 field rises or a -1 field falls.", "",
        "## Training", "",
        f"Each training firm appears {meta['training']['masking']['copies']:g} times with fields hidden (all "
        "known, the quick-check fields only, or each field hidden with a random probability), so partial profiles "
        "get honest, wider answers. Per tier: HistGradientBoostingClassifier with monotonic constraints and "
        "native missing values, then calibration on separate calibration firms"
        + (f" (the training population's calibration share and {config['calibration_population']:,} more "
           "simulated firms drawn for the grids alone, so a grid cell's own sampling error stays small where "
           "few firms fall)" if config.get("calibration_population") else "") + ", each seen "
        f"{config['calibration_copies']} times: once complete, once as a quick check and otherwise with a share "
        f"of fields hidden drawn between {_hidden_range(config)}, so every share a user may leave empty is covered. "
        "Calibration is by level of information, read from which fields are known: quick (nothing beyond the "
        "quick-check fields), partial (share of input fields known up to "
        f"{', '.join(f'{e:g}' for e in config['information_edges'])} or more) and full (at least "
        f"{config['full_share']:g} known), since a quick check and a full profile with the same score need not "
        "share a certification rate. Within a level the rate is a grid over the engine's status of the tier "
        "(not met, unknown, met) and the trees' score, fitted by two-dimensional isotonic regression so it rises "
        "with both: at one score, a firm whose rules are all known and met and one whose rules are undecided do "
        "not share a rate, and the mix of the two moves with the share of fields hidden. A partial profile's "
        "rate is interpolated in its share of fields known between the grids of the neighbouring partial levels. "
        "A value change never changes the level or the share known and never lowers the status, so monotonicity "
        "carries through. Where a tier's gate holds (`gate_not_met`), the trees and grids are fitted only on the "
        "firms the gate lets through, the ones they answer for. "
        f"Configuration: {config}.", "",
    ]
    for one in models:
        lines += _rule_set_section(one)
    lines += ["## Limits", "",
              "- The published pass rates are national aggregates of recent years (23% new little giants, 87% of "
              "2025 re-reviews, about 60% of early re-reviews); the other tiers' rates are stated assumptions in "
              "`data/population/labels.toml`, listed apart above.",
              "- Every distribution parameter and its source or assumption is in `data/population/population.toml`; "
              "dependence between fields comes from assumed factor loadings, not from data.",
              "- The hidden part of an outcome (panel, quotas, market-share proof) is noise correlated with the "
              "firm's latent standing; no input measures it, so even a complete profile is uncertain.",
              "- Calibration is fitted per level of information and status on fields hidden at random; a profile "
              "whose pattern of known fields is unusual (say, every R&D field left empty and everything else "
              "filled) can be off by more than the reliability tables show for the test patterns.",
              "- A firm holding a tier's title is judged as a re-review; when the title fields are left empty the "
              "model cannot tell an applicant from a holder, and its answer mixes both (enter the titles held).",
              "- The rules are those of the tables named above; a change of rule table makes the artefact refuse "
              "to load until it is retrained.", ""]
    return "\n".join(lines)
