"""Content factors: how much of each critical mineral a processed material or derivative product contains.

The numbers are computed here, not typed in, wherever they follow from something checkable: formula
weights for compounds (lithium carbonate, NMC cathode material), the chain capacity x voltage -> kg of
cathode per kWh -> kg of metal for lithium-ion cells, and cited composition ranges for magnets. Each output
row carries a ``derivation`` with the arithmetic and a ``source`` with the citations, so a reviewer can redo
any figure by hand. Inputs: ``curated/content_factors.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.paths import CURATED_DIR
from critmin.refdata.builders._yaml import load_curated_yaml
from critmin.refdata.builders.hts import HTS_CSV, build_schedule
from critmin.refdata.registry import DatasetSpec

FACTORS_FILE = "content_factors.yaml"
MINERALS_FILE = "minerals.yaml"
UNITS = {"per_kg_product": "kg/kg", "per_kwh": "kg/kWh"}
DIGITS = 6

Triple = tuple[float, float, float]


def _r(value: float) -> float:
    return round(value, DIGITS)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class _Context:
    """The parsed YAML plus helpers every section needs (citations, formula weights)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.refs: dict[str, dict[str, str]] = data["references"]
        self.weights: dict[str, float] = {k: float(v) for k, v in data["atomic_weights"].items()}
        self.element_minerals: dict[str, str] = data["element_minerals"]
        self.compounds: dict[str, dict[str, Any]] = {c["product_id"]: c for c in data["compounds"]}

    def cite(self, keys: Iterable[str], where: str) -> str:
        out = []
        for key in dict.fromkeys(keys):
            if key not in self.refs:
                raise ReferenceDataError(f"{FACTORS_FILE} {where}: unknown reference {key!r}.")
            ref = self.refs[key]
            out.append(f"{' '.join(ref['citation'].split())} <{ref['url']}>")
        return " | ".join(out)

    def molar_mass(self, formula: dict[str, float]) -> tuple[float, str]:
        terms = []
        total = 0.0
        for element, count in formula.items():
            if element not in self.weights:
                raise ReferenceDataError(f"{FACTORS_FILE}: no atomic weight for {element!r}.")
            total += float(count) * self.weights[element]
            terms.append(f"{_fmt(float(count))}x{_fmt(self.weights[element])}")
        return total, " + ".join(terms)

    def fractions(self, product_id: str) -> tuple[dict[str, float], str]:
        """Mass fraction of each reported element in a compound, with the arithmetic."""
        compound = self.compounds[product_id]
        formula = {k: float(v) for k, v in compound["formula"].items()}
        mass, terms = self.molar_mass(formula)
        out = {}
        steps = [f"M = {terms} = {mass:.3f} g/mol"]
        for element, count in formula.items():
            if element in self.element_minerals:
                share = count * self.weights[element] / mass
                out[element] = share
                steps.append(
                    f"{element} = {_fmt(count)}x{_fmt(self.weights[element])}/{mass:.3f} = {share:.4f}"
                )
        return out, "; ".join(steps)


def _row(
    product_id: str,
    name: str,
    prefix: str,
    mineral: str,
    basis: str,
    values: Triple,
    source: str,
    derivation: str,
    note: str | None,
    default: bool,
) -> dict[str, Any]:
    low, central, high = (_r(v) for v in values)
    return {
        "product_id": product_id,
        "hts_prefix": prefix,
        "mineral_id": mineral,
        "basis": basis,
        "low": low,
        "central": central,
        "high": high,
        "unit": UNITS[basis],
        "source": source,
        "is_default": default,
        "product_name": name,
        "derivation": derivation,
        "note": note,
    }


def _compound_rows(ctx: _Context) -> list[dict[str, Any]]:
    rows = []
    for compound in ctx.data["compounds"]:
        shares, derivation = ctx.fractions(compound["product_id"])
        source = "stoichiometry: " + ctx.cite(["ciaaw"], compound["product_id"])
        for element, share in shares.items():
            for prefix in compound["hts_prefixes"]:
                rows.append(
                    _row(
                        compound["product_id"],
                        compound["name"],
                        prefix,
                        ctx.element_minerals[element],
                        "per_kg_product",
                        (share, share, share),
                        source,
                        derivation,
                        "ideal formula; dopants, coatings and moisture move real material by a few percent",
                        bool(compound.get("default", False)),
                    )
                )
    return rows


def _triple(values: Sequence[float], what: str) -> Triple:
    if len(values) != 3 or not values[0] <= values[1] <= values[2]:
        raise ReferenceDataError(
            f"{FACTORS_FILE} {what}: expected [low, central, high] in order, got {values}."
        )
    return float(values[0]), float(values[1]), float(values[2])


def _cell_rows(ctx: _Context) -> list[dict[str, Any]]:
    anode = ctx.data["graphite_anode"]
    g_cap = _triple(anode["capacity_mah_per_g"], "graphite_anode.capacity_mah_per_g")
    np_ratio = _triple(anode["np_ratio"], "graphite_anode.np_ratio")
    rows = []
    for cell in ctx.data["cells"]:
        pid = cell["product_id"]
        cap = _triple(cell["capacity_mah_per_g"], f"{pid}.capacity_mah_per_g")
        volt = _triple(cell["voltage_v"], f"{pid}.voltage_v")
        energy = _triple(cell["cell_kwh_per_kg"], f"{pid}.cell_kwh_per_kg")
        shares, stoich = ctx.fractions(cell["cathode"])
        cam: Triple = (1000 / (cap[2] * volt[2]), 1000 / (cap[1] * volt[1]), 1000 / (cap[0] * volt[0]))
        cam_text = (
            f"CAM kg/kWh = 1000/(capacity x V): low 1000/({_fmt(cap[2])}x{_fmt(volt[2])}) = {cam[0]:.4f}, "
            f"central 1000/({_fmt(cap[1])}x{_fmt(volt[1])}) = {cam[1]:.4f}, "
            f"high 1000/({_fmt(cap[0])}x{_fmt(volt[0])}) = {cam[2]:.4f}"
        )
        per_kwh: dict[str, tuple[Triple, str]] = {}
        for element, share in shares.items():
            values: Triple = (cam[0] * share, cam[1] * share, cam[2] * share)
            per_kwh[ctx.element_minerals[element]] = (
                values,
                f"{cell['cathode']}: {stoich}. {cam_text}. {element} kg/kWh = CAM x {share:.4f}",
            )
        graphite: Triple = (
            1000 / (volt[2] * g_cap[2]) * np_ratio[0],
            1000 / (volt[1] * g_cap[1]) * np_ratio[1],
            1000 / (volt[0] * g_cap[0]) * np_ratio[2],
        )
        per_kwh["graphite"] = (
            graphite,
            "graphite kg/kWh = 1000/(V x graphite mAh/g) x N/P: "
            f"low 1000/({_fmt(volt[2])}x{_fmt(g_cap[2])})x{_fmt(np_ratio[0])} = {graphite[0]:.4f}, "
            f"central 1000/({_fmt(volt[1])}x{_fmt(g_cap[1])})x{_fmt(np_ratio[1])} = {graphite[1]:.4f}, "
            f"high 1000/({_fmt(volt[0])}x{_fmt(g_cap[0])})x{_fmt(np_ratio[2])} = {graphite[2]:.4f}",
        )
        keys = list(cell["sources"]) + (list(anode["sources"]))
        source = ctx.cite(keys, pid)
        note = (
            " ".join(str(cell.get("note", "")).split())
            + "; graphite: "
            + " ".join(anode["note"].split())
            + "; counts cathode and anode active material only (current-collector foils, electrolyte "
            "lithium and casings are not included; li_ion_battery_average_2020 gives copper)"
        )
        for mineral, (values, text) in per_kwh.items():
            per_kg: Triple = (values[0] * energy[0], values[1] * energy[1], values[2] * energy[2])
            kg_text = (
                f"{text}. Per kg of cell = kg/kWh x kWh/kg ({_fmt(energy[0])}, {_fmt(energy[1])}, "
                f"{_fmt(energy[2])}) = {per_kg[0]:.4f}, {per_kg[1]:.4f}, {per_kg[2]:.4f}"
            )
            for prefix in cell["hts_prefixes"]:
                rows.append(
                    _row(pid, cell["name"], prefix, mineral, "per_kwh", values, source, text, note, False)
                )
                rows.append(
                    _row(
                        pid,
                        cell["name"],
                        prefix,
                        mineral,
                        "per_kg_product",
                        per_kg,
                        source,
                        kg_text,
                        note,
                        False,
                    )
                )
    return rows


def _ndfeb_rows(ctx: _Context) -> list[dict[str, Any]]:
    spec = ctx.data["ndfeb_magnet"]
    pid = spec["product_id"]
    re_ = _triple(spec["total_rare_earth_wt"], f"{pid}.total_rare_earth_wt")
    dy = _triple(spec["dysprosium_wt"], f"{pid}.dysprosium_wt")
    tb = _triple(spec["terbium_wt"], f"{pid}.terbium_wt")
    pr = _triple(spec["praseodymium_share_of_ndpr"], f"{pid}.praseodymium_share_of_ndpr")
    boron = _triple(spec["boron_wt"], f"{pid}.boron_wt")
    srcs: dict[str, list[str]] = spec["sources"]
    ndpr_lo, ndpr_c, ndpr_hi = re_[0] - dy[2] - tb[2], re_[1] - dy[1] - tb[1], re_[2] - dy[0] - tb[0]
    ndpr_text = (
        f"Nd+Pr = total RE - Dy - Tb: low {_fmt(re_[0])}-{_fmt(dy[2])}-{_fmt(tb[2])} = {ndpr_lo:.4f}, "
        f"central {_fmt(re_[1])}-{_fmt(dy[1])}-{_fmt(tb[1])} = {ndpr_c:.4f}, "
        f"high {_fmt(re_[2])}-{_fmt(dy[0])}-{_fmt(tb[0])} = {ndpr_hi:.4f}"
    )
    nd: Triple = (ndpr_lo * (1 - pr[2]), ndpr_c * (1 - pr[1]), ndpr_hi * (1 - pr[0]))
    prv: Triple = (ndpr_lo * pr[0], ndpr_c * pr[1], ndpr_hi * pr[2])
    stoich_b = ctx.weights["B"] / (2 * ctx.weights["Nd"] + 14 * ctx.weights["Fe"] + ctx.weights["B"])
    ndpr_keys = srcs["total_rare_earth_wt"] + srcs["dysprosium_wt"] + srcs["terbium_wt"]
    items: list[tuple[str, Triple, list[str], str]] = [
        (
            "rare_earths",
            re_,
            srcs["total_rare_earth_wt"],
            "total rare-earth content of the magnet (the sum of the element rows, so never a default: "
            "adding it to them would count the rare earths twice)",
        ),
        (
            "neodymium",
            nd,
            ndpr_keys + srcs["praseodymium_share_of_ndpr"],
            f"{ndpr_text}; Nd = (Nd+Pr) x (1 - Pr share {_fmt(pr[2])}/{_fmt(pr[1])}/{_fmt(pr[0])})",
        ),
        (
            "praseodymium",
            prv,
            ndpr_keys + srcs["praseodymium_share_of_ndpr"],
            f"{ndpr_text}; Pr = (Nd+Pr) x Pr share {_fmt(pr[0])}/{_fmt(pr[1])}/{_fmt(pr[2])}",
        ),
        (
            "dysprosium",
            dy,
            srcs["dysprosium_wt"],
            "0 for heavy-rare-earth-free grades to 10% in motor grades",
        ),
        ("terbium", tb, srcs["terbium_wt"], "grain-boundary-diffused grades carry under ~1% (assumed)"),
        (
            "boron",
            boron,
            srcs["boron_wt"],
            f"stoichiometric Nd2Fe14B boron = {_fmt(ctx.weights['B'])}/(2x{_fmt(ctx.weights['Nd'])} + "
            f"14x{_fmt(ctx.weights['Fe'])} + {_fmt(ctx.weights['B'])}) = {stoich_b:.4f}; cited 1.1-1.2%",
        ),
    ]
    rows = []
    for mineral, values, keys, derivation in items:
        for prefix in spec["hts_prefixes"]:
            rows.append(
                _row(
                    pid,
                    spec["name"],
                    prefix,
                    mineral,
                    "per_kg_product",
                    values,
                    ctx.cite(keys, pid),
                    derivation,
                    "iron is the balance (about 64-69%); minor cobalt, aluminum, copper, gallium not listed",
                    bool(spec.get("default", False)) and mineral != "rare_earths",
                )
            )
    return rows


def _smco_rows(ctx: _Context) -> list[dict[str, Any]]:
    spec = ctx.data["smco_magnet"]
    pid = spec["product_id"]
    note = " ".join(spec["note"].split())
    rows = []
    for mineral, key in (("samarium", "samarium_wt"), ("cobalt", "cobalt_wt")):
        values = _triple(spec[key], f"{pid}.{key}")
        for prefix in spec["hts_prefixes"]:
            rows.append(
                _row(
                    pid,
                    spec["name"],
                    prefix,
                    mineral,
                    "per_kg_product",
                    values,
                    ctx.cite(spec["sources"], pid),
                    f"{mineral} weight fraction from the cited grade compositions",
                    note,
                    bool(spec.get("default", False)),
                )
            )
    return rows


def _fixed_rows(ctx: _Context) -> list[dict[str, Any]]:
    rows = []
    for item in ctx.data["fixed"]:
        pid = item["product_id"]
        note = " ".join(item["note"].split())
        for mineral, values in item["minerals"].items():
            triple = _triple(values, f"{pid}.{mineral}")
            for prefix in item["hts_prefixes"]:
                rows.append(
                    _row(
                        pid,
                        item["name"],
                        prefix,
                        mineral,
                        item["basis"],
                        triple,
                        ctx.cite(item["sources"], pid),
                        "quoted" if item["sources"] != ["assumption"] else "assumed range (see note)",
                        note,
                        bool(item.get("default", False)),
                    )
                )
    return rows


def _envelope_rows(ctx: _Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame = pl.DataFrame(rows)
    out = []
    for env in ctx.data["envelopes"]:
        variants = env["variants"]
        part = frame.filter(pl.col("product_id").is_in(variants))
        missing = set(variants) - set(part.get_column("product_id").to_list())
        if missing:
            raise ReferenceDataError(
                f"{FACTORS_FILE} envelope {env['product_id']}: unknown variants {missing}."
            )
        keys = part.select("basis", "mineral_id").unique(maintain_order=True).rows()
        for basis, mineral in keys:
            group = part.filter((pl.col("basis") == basis) & (pl.col("mineral_id") == mineral))
            first: dict[str, dict[str, Any]] = {}
            for row in group.iter_rows(named=True):
                first.setdefault(str(row["product_id"]), row)
            # a variant without the mineral contains none of it
            lows = [float(first[v]["low"]) if v in first else 0.0 for v in variants]
            centrals = [float(first[v]["central"]) if v in first else 0.0 for v in variants]
            highs = [float(first[v]["high"]) if v in first else 0.0 for v in variants]
            values: Triple = (min(lows), sum(centrals) / len(variants), max(highs))
            derivation = (
                f"envelope of {', '.join(variants)}: low = min {[_fmt(v) for v in lows]}, central = mean "
                f"{[_fmt(v) for v in centrals]}, high = max {[_fmt(v) for v in highs]}"
            )
            source = " || ".join(dict.fromkeys(str(first[v]["source"]) for v in variants if v in first))
            for prefix in env["hts_prefixes"]:
                out.append(
                    _row(
                        env["product_id"],
                        env["name"],
                        prefix,
                        str(mineral),
                        str(basis),
                        values,
                        source,
                        derivation,
                        "use when the variant is not known; a variant without the mineral counts as zero",
                        bool(env.get("default", False)),
                    )
                )
    return out


def build_factors(raw_dir: Path) -> pl.DataFrame:
    data = load_curated_yaml(CURATED_DIR / FACTORS_FILE)
    ctx = _Context(data)
    rows = _compound_rows(ctx) + _cell_rows(ctx) + _ndfeb_rows(ctx) + _smco_rows(ctx) + _fixed_rows(ctx)
    rows += _envelope_rows(ctx, rows)
    frame = pl.DataFrame(rows).sort("product_id", "hts_prefix", "mineral_id", "basis")
    _validate(frame, raw_dir)
    return frame


def _validate(frame: pl.DataFrame, raw_dir: Path) -> None:
    codes = set(build_schedule(raw_dir).get_column("hts").to_list())
    bad_codes = sorted(set(frame.get_column("hts_prefix").to_list()) - codes)
    if bad_codes:
        raise ReferenceDataError(f"{FACTORS_FILE}: HTS prefixes not in the schedule: {bad_codes}.")
    minerals = {str(m["id"]) for m in load_curated_yaml(CURATED_DIR / MINERALS_FILE)["minerals"]}
    bad_minerals = sorted(set(frame.get_column("mineral_id").to_list()) - minerals)
    if bad_minerals:
        raise ReferenceDataError(f"{FACTORS_FILE}: unknown mineral ids {bad_minerals}.")
    disordered = frame.filter((pl.col("low") > pl.col("central")) | (pl.col("central") > pl.col("high")))
    if disordered.height:
        raise ReferenceDataError(f"{FACTORS_FILE}: low <= central <= high fails for {disordered.rows()[:3]}.")
    over = frame.filter((pl.col("basis") == "per_kg_product") & (pl.col("high") > 1.0))
    if over.height:
        raise ReferenceDataError(f"{FACTORS_FILE}: a kg/kg factor above 1 for {over.rows()[:3]}.")
    defaults = frame.filter(pl.col("is_default")).group_by("hts_prefix", "mineral_id", "basis").len()
    clash = defaults.filter(pl.col("len") > 1)
    if clash.height:
        raise ReferenceDataError(f"{FACTORS_FILE}: more than one default product for {clash.rows()}.")


SPECS = [
    DatasetSpec(
        id="content_factors",
        title="Mineral content of processed materials and derivative products (low/central/high)",
        source=(
            "critmin computation from curated/content_factors.yaml: stoichiometry with IUPAC/CIAAW atomic "
            "weights; lithium-ion cell parameters and magnet compositions from the publications cited per row"
        ),
        licence="Apache-2.0 (curation and computation); cited figures remain with their publishers",
        vintage="2026-11-28",
        retrieved="2026-11-28",
        description=(
            "product_id, hts_prefix, mineral_id, basis (per_kg_product in kg/kg, per_kwh in kg/kWh), "
            "low, central, high, unit, source, is_default (the factor to use when only the HTS code is "
            "known), derivation (the arithmetic) and note. Covers NdFeB and SmCo magnets, lithium-ion "
            "cells by cathode chemistry (NMC811, NMC622, NCA, LFP, and an unknown-chemistry envelope), "
            "cathode active materials, battery-grade lithium/cobalt/nickel/manganese salts, rare-earth "
            "oxides, GaAs, anode graphite and copper wire and cable."
        ),
        build=build_factors,
        raw_inputs=(f"curated:{FACTORS_FILE}", HTS_CSV),
    )
]
