"""Draw simulated firm profiles of one stratum: latent factors, stated marginals, derived fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from webapp.engine.readiness.population.params import FACTORS, PopulationParams, Quantity
from webapp.fields import REGISTRY

# Field groups the simulated population leaves unknown: the HNTE inputs (no published cohort figures to
# draw them from; the readiness model then learns nothing from them, and says so in data/population/README).
UNDRAWN_GROUPS = ("hnte",)


class _Draw:
    """Normal scores and inverse-cdf draws for one stratum and one batch of firms."""

    def __init__(self, params: PopulationParams, stratum: str, n: int, rng: np.random.Generator):
        self.params, self.stratum, self.n, self.rng = params, stratum, n, rng
        self.factors = {f: rng.standard_normal(n) for f in FACTORS}

    def score(self, q: Quantity) -> np.ndarray:
        """z = loadings . factors + sqrt(1 - |loadings|^2) * own noise."""
        z = np.sqrt(1.0 - sum(v * v for v in q.loadings.values())) * self.rng.standard_normal(self.n)
        for factor, weight in q.loadings.items():
            z += weight * self.factors[factor]
        return z

    def __call__(self, name: str) -> np.ndarray:
        """Draw quantity ``name`` for every firm of the batch."""
        q = self.params.quantities[name]
        p = q.params[self.stratum]
        z = self.score(q)
        fam, opt = q.family, q.options
        if fam == "zidlognorm":
            u = special.ndtr(z)
            inner = np.clip((u - p["pi"]) / max(1.0 - p["pi"], 1e-12), 1e-12, 1 - 1e-12)
            x = np.where(u <= p["pi"], 0.0, np.floor(np.exp(p["mu"] + p["sigma"] * special.ndtri(inner))))
        elif fam == "lognormal":
            x = p["median"] * np.exp(p["sigma"] * z)
        elif fam == "logitnorm":
            x = special.expit(p["mu"] + p["sigma"] * z) * opt.get("scale", 1.0)
        elif fam == "normal":
            x = p["mean"] + p["sd"] * z
        elif fam == "growth":
            x = np.expm1(p["mu"] + p["sigma"] * z)
        elif fam == "bernoulli":
            x = (z > special.ndtri(1.0 - p["p"]) if 0.0 < p["p"] < 1.0 else np.full(self.n, p["p"] >= 1.0))
            x = x.astype(float)
        elif fam == "ordinal":
            cuts = np.cumsum(p["probs"])[:-1]
            x = np.searchsorted(cuts, special.ndtr(z), side="right")
        else:  # categorical: no factor, independent of the rest
            x = self.rng.choice(len(opt["levels"]), size=self.n, p=np.asarray(p["probs"]) / np.sum(p["probs"]))
        if fam in ("ordinal", "categorical"):
            return x
        return np.clip(x, opt.get("lo", -np.inf), opt.get("hi", np.inf))


def _binomial(rng, n, p) -> np.ndarray:
    return rng.binomial(np.maximum(n, 0).astype(np.int64), np.clip(p, 0.0, 1.0)).astype(float)


def _finance(d: _Draw, out: dict) -> None:
    """Staff, revenue with persistent growth, main-business share, R&D scaled to revenue, balance sheet."""
    rng, der = d.rng, d.params.derived
    employees = np.maximum(d("employees"), d.params.quantities["employees"].options.get("min", 1))
    revenue = np.round(employees * d("revenue_per_employee"), 1)
    g1, g0 = d("growth"), d("growth")  # both years load on the growth factor: persistence
    revenues = (revenue, np.round(revenue / (1 + g1), 1), np.round(revenue / (1 + g1) / (1 + g0), 1))
    q_share, q_rd = d.params.quantities["main_share"], d.params.quantities["rd_ratio"]
    share, rd_ratio = d("main_share"), d("rd_ratio")
    for suffix, rev in zip(("", "_prev", "_prev2"), revenues, strict=True):
        out["revenue" + suffix] = rev
        out["main_revenue" + suffix] = np.minimum(np.round(rev * share, 1), rev)
        out["rd_expense" + suffix] = np.round(rev * rd_ratio, 1)
        share = special.expit(special.logit(share) + q_share.options["year_sd"] * rng.standard_normal(d.n))
        rd_ratio = special.expit(special.logit(rd_ratio) + q_rd.options["year_sd"] * rng.standard_normal(d.n))
    margin = d("net_margin")
    out["net_profit"] = np.round(revenue * margin, 1)
    out["total_assets"] = np.round(revenue * d("asset_ratio"), 1)
    costs = revenue * (1.0 - margin + der["cost_noise"] * rng.standard_normal(d.n))
    out["total_costs"] = np.round(np.maximum(costs, 0.0), 1)
    out["debt_ratio_pct"] = np.round(100.0 * d("debt_ratio"), 1)
    out["equity_financing_2y"] = d("equity_2y")
    out["equity_financing_3y"] = out["equity_financing_2y"] + d("equity_extra_year")
    out["employees"] = employees
    out["rd_staff"] = np.minimum(np.floor(employees * d("rd_staff_share")), employees)


def _patents(d: _Draw, out: dict, sector: np.ndarray) -> None:
    """Patent portfolio: applications, inventions, grants, valid rights, Class I/II IP, filing history."""
    rng, der = d.rng, d.params.derived
    apps = d("patent_applications")
    inventions = np.minimum(np.round(apps * d("invention_share")), apps)
    grants = _binomial(rng, inventions, d("grant_rate"))
    valid = _binomial(rng, grants, der["valid_invention_share"])
    other = apps - inventions
    utility = _binomial(rng, other, der["utility_share"])
    designs = _binomial(rng, other - utility, der["design_share"] / (1.0 - der["utility_share"]))
    software = d("software_copyrights") * np.where(sector == "next_gen_it", der["software_it_factor"], 1.0)
    out.update(patent_applications=apps, invention_applications=inventions, invention_grants=grants,
               valid_inventions=valid, valid_utility_models=utility, valid_designs=designs,
               software_copyrights=np.round(software), pct_applications=d("pct_applications"),
               overseas_markets=d("overseas_markets"), citations=d("citations"), licenses_out=d("licenses_out"))
    last = np.round(apps * d("filing_share"))
    growth = d("application_cagr")
    prev = np.round(last / (1 + growth))
    prev2 = np.round(prev / (1 + growth))
    total = last + prev + prev2
    scale = np.where(total > apps, apps / np.maximum(total, 1.0), 1.0)
    out.update(applications_last=np.floor(last * scale), applications_prev=np.floor(prev * scale),
               applications_prev2=np.floor(prev2 * scale))
    related = rng.uniform(der["class1_related_lo"], der["class1_related_hi"], d.n)
    class1 = np.round(valid * related) + rng.poisson(der["class1_other_mean"], d.n)
    high_share = der["class1_high_value_base"] + der["class1_high_value_abroad"] * (out["overseas_markets"] > 0)
    out.update(class1_ip=class1, class1_ip_self=_binomial(rng, class1, der["class1_self_share"]),
               class1_ip_high_value=_binomial(rng, class1, high_share),
               class1_ip_applied=_binomial(rng, class1, der["class1_applied_share"]),
               class2_ip=_binomial(rng, utility + designs, der["class2_share"])
               + _binomial(rng, out["software_copyrights"], der["class2_share"]))


def _market(d: _Draw, out: dict) -> None:
    """Niche shares and ranks, the self-declared share flag, awards, standards, platform score."""
    rng, der = d.rng, d.params.derived
    share = np.round(d("niche_share"), 2)
    intl = np.round(np.minimum(share * d("intl_ratio"), 100.0), 2)
    rank = np.round(der["rank_share_k"] / np.maximum(share, 0.01) * np.exp(0.4 * rng.standard_normal(d.n)))
    grank = np.round(der["global_rank_k"] / np.maximum(intl, 0.01) * np.exp(0.5 * rng.standard_normal(d.n)))
    leading = (share >= 8.0) | (rank <= 3)
    p_high = np.where(leading, der["share_high_if_leading"], der["share_high_otherwise"])
    out.update(niche_share_pct=share, niche_share_intl_pct=intl, niche_rank_domestic=np.clip(rank, 1, 500),
               global_rank=np.clip(grank, 1, 1000), niche_share_high=(rng.random(d.n) < p_high).astype(float))
    award = d("award_level")
    out["award_level"] = award
    out["award_rank"] = np.where(award > 0, 1.0 + rng.poisson(der["award_rank_mean"], d.n), np.nan)
    out["makers_china"] = d("makers_china")
    count = d("standards")
    out["standards_count"] = count
    out["standards_led"] = _binomial(rng, count, der["standards_led_share"])
    out["local_points"] = np.round(d("local_points"), 1)
    score = d("platform_score")
    prev = score + der["platform_prev_shift"] + der["platform_prev_sd"] * rng.standard_normal(d.n)
    out["platform_score"] = np.round(score, 1)
    out["platform_score_prev"] = np.round(np.clip(prev, 0.0, 100.0), 1)


_BOOLS = ("core_business_it", "quality_certified", "quality_award", "own_brand", "hnte", "tech_innovation_demo",
          "ip_advantage", "strategic_emerging", "industrial_foundation", "chain_breakthrough", "new_product",
          "clean_record")


def draw_profiles(params: PopulationParams, stratum: str, n: int, rng: np.random.Generator, *,
                  titles: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` complete profiles from one profile's marginals.

    Parameters
    ----------
    params : PopulationParams
        From :func:`webapp.engine.readiness.population.params.load_population_params`.
    stratum : str
        The profile (marginal set) to draw from, one of ``population_params.STRATA``.
    titles : str, optional
        The profile whose title holdings the firms get (default ``stratum``).
    n : int
        Number of firms.
    rng : numpy.random.Generator
        Source of randomness (the caller seeds it).

    Returns
    -------
    profiles : pandas.DataFrame
        One column per registry field, as :func:`webapp.engine.io.inputs.validate_profiles` returns them
        (float64 numbers and booleans, Categorical enums, object text); every field is known except
        ``award_rank`` for firms without an award.
    standing : numpy.ndarray
        Each firm's latent standing factor (feeds the hidden part of the outcome).
    """
    d = _Draw(params, stratum, n, rng)
    out: dict[str, np.ndarray] = {}
    levels = params.quantities["sector"].options["levels"]
    sector = np.asarray(levels, dtype=object)[d("sector")]
    industry = np.asarray(params.quantities["sme_industry"].options["levels"], dtype=object)[d("sme_industry")]
    places = np.asarray(params.quantities["province"].options["levels"], dtype=object)[d("province")]
    _finance(d, out)
    _patents(d, out, sector)
    _market(d, out)
    years = np.round(d("years_in_niche"), 1)
    out["years_in_niche"] = years
    out["years_in_field"] = np.round(years * (1 + rng.uniform(0, params.derived["field_years_extra"], n)), 1)
    for name in _BOOLS:
        out[name] = d(name)
    out["rd_institution"] = d("rd_institution")
    out["digital_level"] = np.asarray(params.quantities["digital_level"].options["levels"], float)[d("digital_level")]
    held = titles or stratum
    titles = {name: (rng.random(n) < p[held]).astype(float) for name, p in params.titles.items()}
    if held == "innovative":  # a level-1 firm holds at least one level-1 title
        titles["title_tech_sme"] = np.where(titles["title_innovative"] > 0, titles["title_tech_sme"], 1.0)
    out.update(titles)
    text = {"firm_name": np.full(n, None, dtype=object),
            "province": np.array([p.split("|")[0] for p in places], dtype=object),
            "city": np.array([p.split("|")[1] for p in places], dtype=object)}
    enums = {"sector": sector, "sme_industry": industry}
    columns = {}
    for spec in REGISTRY:
        if spec.group in UNDRAWN_GROUPS:  # inputs the population does not model stay unknown
            columns[spec.name] = pd.Categorical([None] * n, categories=spec.choices) if spec.kind == "enum" \
                else np.full(n, np.nan)
        elif spec.kind == "text":
            columns[spec.name] = text[spec.name]
        elif spec.kind == "enum":
            values = enums.get(spec.name)
            if values is None:  # an ordinal quantity: codes into its own levels
                levels = np.asarray(params.quantities[spec.name].options["levels"], dtype=object)
                values = levels[out[spec.name]]
            columns[spec.name] = pd.Categorical(values, categories=spec.choices)
        else:
            columns[spec.name] = np.asarray(out[spec.name], dtype=np.float64)
    return pd.DataFrame(columns), d.factors["standing"]
