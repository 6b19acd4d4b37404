"""The model card (MODEL_CARD.md) of a readiness artefact, written from its metadata alone."""

from __future__ import annotations

from webapp.engine.readiness.features import DECREASING, DERIVED, FREE, INCREASING, NOMINAL, ORDINAL

_VARIANT_NAMES = {"full": "full profile (every field known)",
                  "quick": "quick check (only the quick-check fields, as on the first form page)",
                  "random": "partial profile (each field hidden with probability 0.5)"}


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


def _data_section(meta: dict) -> list[str]:
    data = meta.get("data", {})
    if "population" in data:
        pop = data["population"]
        lines = ["## Data: a simulated population", "",
                 f"{pop['rows']:,} simulated firms, seed {pop['seed']}, rules {pop['rules']['sme']}; parameters "
                 f"`data/population` version {pop['params_version']} (SHA-256 {pop['params_sha256'][:12]}…); "
                 f"population SHA-256 {pop['sha256'][:16]}…. Strata (sampling design, not national "
                 "frequencies): " + ", ".join(f"{k} {v:,}" for k, v in pop["strata"].items()) + ".", "",
                 "Outcome = the engine's verdict on the full profile (a title holder judged as a re-review) AND a "
                 "hidden pass for what no input captures (market-share proof, the review panel, provincial "
                 "quotas), whose rate is solved per group to match the published or assumed pass rate:", ""]
        rows = [[c["tier"], c["group"], c["members"], c["rules_met_share"], c["target"], c["achieved"], c["basis"]]
                for c in pop["calibration"]]
        lines += _table(["tier", "group", "firms", "rules met", "target rate", "achieved", "basis"], rows)
        lines += ["Title holders are kept when they meet their tier's rules (all but a stated drift share), which "
                  "favours larger firms; the cohort-sourced marginals are shifted on a pilot sample so the kept "
                  "holders keep the published cohort means:", ""]
        rows = [[c["stratum"], c["quantity"], c["published_mean"], c["simulated_mean"]] for c in pop["cohort_check"]]
        return lines + _table(["stratum", "quantity", "published (fitted cohort) mean", "simulated holders' mean"],
                              rows)
    out = data.get("outcomes", {})
    lines = ["## Data: real outcomes", "", f"File `{out.get('file')}` (SHA-256 {str(out.get('sha256'))[:16]}…): "
             f"{out.get('rows_used')} rows used, {out.get('rows_skipped')} skipped for invalid input.", ""]
    rows = [[t, v["known"], v["certified"], v["years"]] for t, v in out.get("tiers", {}).items()]
    return lines + _table(["tier", "outcomes known", "certified", "years"], rows)


def _metrics_section(meta: dict) -> list[str]:
    lines = ["## Held-out metrics", "",
             f"Test firms: {meta['training']['split']['test']:,} (never seen in training or calibration). Each is "
             "scored three times: " + "; ".join(f"**{k}** = {v}" for k, v in _VARIANT_NAMES.items()) + ". The "
             "baseline is the rules alone: the engine's status mapped to 1 (met), 0 (not met) or 0.5 (unknown). "
             "Log loss clips probabilities to [0.001, 0.999] (the model's own range), else the baseline's 0 and 1 "
             "would give infinite log loss.", ""]
    rows = []
    for tier, by in meta["metrics"].items():
        for variant, m in by.items():
            rows.append([tier, variant, m["model"]["n"], m["model"]["positives"], m["model"]["roc_auc"],
                         m["model"]["brier"], m["model"]["log_loss"], m["baseline"]["roc_auc"],
                         m["baseline"]["brier"], m["baseline"]["log_loss"]])
    lines += _table(["tier", "profile", "firms", "certified", "AUC", "Brier", "log loss", "rules AUC",
                     "rules Brier", "rules log loss"], rows)
    lines += ["### Reliability (10 bins of predicted probability)", "",
              "Mean predicted probability against the observed certification rate of the test firms in each bin.", ""]
    for tier, by in meta["metrics"].items():
        rows = [[r["bin"]] + [x for v in by for x in (by[v]["reliability"][i]["n"],
                                                       by[v]["reliability"][i]["mean_predicted"],
                                                       by[v]["reliability"][i]["observed"])]
                for i, r in enumerate(by["full"]["reliability"])]
        header = ["bin"] + [f"{v} {h}" for v in by for h in ("n", "predicted", "observed")]
        lines += [f"**{tier}**", ""] + _table(header, rows)
    return lines


def model_card(meta: dict) -> str:
    """Render the model card of the artefact described by ``meta`` (its metadata JSON) as Markdown."""
    simulated = meta["trained_on"] == "simulated population"
    art = meta.get("artefact", {})
    lines = [
        "# GiantStep readiness model", "",
        f"Version `{meta['model_version']}`, trained {meta['trained_at']} on **{meta['trained_on']}**; "
        f"rules {meta['rules']['sme']} ({', '.join(f'{k} {v}' for k, v in meta['rule_versions'].items())}). "
        f"Artefact `{art.get('file')}` ({art.get('bytes', 0) / 1e6:.1f} MB, SHA-256 {str(art.get('sha256'))[:16]}…); "
        "libraries " + ", ".join(f"{k} {v}" for k, v in meta["libraries"].items()) + ".", "",
        f"Reproduce with `{meta['command']}` (or `python -m webapp.model_cli train ...`): the same seed, parameter "
        "files, rule tables and library versions give the same population and the same figures below.", "",
        "## What it is for", "",
        "For a firm's profile, complete or partial, the probability per tier (innovative_sme, tech_sme, srdi_sme, "
        "little_giant, single_champion) that it is certified if it applies now, or passes re-review if it holds "
        "the title; and the fields that would raise it most (re-prediction with each field moved to the tier's "
        "typical value). It complements the rules: the engine says pass/fail on what is known; this says how "
        "likely, given what is known.", "",
        "## What it is not", "",
        ("- **Not trained on real firms.** No firm-level outcome data is public. The model learnt from a simulated "
         "population whose distributions are fitted to published aggregates and whose pass rates are set to the "
         "published ones; it reproduces those aggregates, not the real joint distribution of firms. Retrain with "
         "`giantstep train --labels OUTCOMES.csv` when real outcomes exist." if simulated else
         "- **Trained on the outcomes in the file above only**: it knows nothing the file does not show."),
        "- Not an official assessment, and not a forecast of quotas or of a panel's decision in a given year.",
        "- Probabilities of partial profiles are relative to the training mix of firms (the strata above), not to "
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
        f"Firms split {meta['training']['split']} (training / calibration / test), seed {meta['training']['seed']}. "
        f"Each training and calibration firm appears {meta['training']['masking']['copies']:g} times with fields "
        "hidden (all known, the quick-check fields only, or each field hidden with a random probability), so "
        "partial profiles get honest, wider answers. Per tier: HistGradientBoostingClassifier with monotonic "
        "constraints and native missing values, then isotonic calibration (non-decreasing in the score) on the "
        "calibration firms, one map per level of information (number of fields known: up to 15, up to 80, more), "
        "since a quick check and a full profile with the same score need not share a certification rate; a "
        "value change never changes the level, so monotonicity carries through. Configuration: "
        f"{meta['training']['config']}.", "",
    ]
    rows = [[t, v.get("trained_on"), v.get("rows"), v.get("positives"), v.get("iterations"), v.get("gate_not_met")]
            for t, v in meta["tiers"].items()]
    lines += _table(["tier", "trained on", "training rows", "certified rows", "trees", "gate_not_met"], rows)
    lines += _data_section(meta) + _metrics_section(meta)
    lines += ["## Limits", "",
              "- The published pass rates are national aggregates of recent years (23% new little giants, 87% of "
              "2025 re-reviews, about 60% of early re-reviews); the other tiers' rates are stated assumptions in "
              "`data/population/labels.toml`.",
              "- Every distribution parameter and its source or assumption is in `data/population/population.toml`; "
              "dependence between fields comes from assumed factor loadings, not from data.",
              "- The hidden part of an outcome (panel, quotas, market-share proof) is noise correlated with the "
              "firm's latent standing; no input measures it, so even a complete profile is uncertain.",
              "- Calibration is fitted per level of information on the training mix of hidden fields; a profile "
              "whose pattern of known fields is unusual for its level can be off by a few points (the reliability "
              "tables show the three test patterns).",
              "- A firm holding a tier's title is judged as a re-review; when the title fields are left empty the "
              "model cannot tell an applicant from a holder, and its answer mixes both (enter the titles held).",
              "- The features read the engine's statuses under the rule set above. For a profile judged under "
              "another rule set, the model judges it again under its own; `_model.rules` says which.",
              "- The rules are those of the tables named above; a change of rule table makes the artefact refuse "
              "to load until it is retrained.", ""]
    return "\n".join(lines)
