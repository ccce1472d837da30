"""EU critical raw materials assessments: the 2017 supply-risk inputs and results, and SR/EI 2011–2023.

The published tables are the data: the 2017 final report prints every input of its supply-risk formula
(Table 3: import reliance, end-of-life recycling input rate, supply scope; Annex 5 Table 18: substitution
indices and the governance-weighted concentrations), so critmin ships them and recomputes SR from them
(critmin.risk.eu_sr). The tables were parsed from the reports into the shared oracle folder beside the raw
data, which is where this builder reads them; EU names are mapped to critmin mineral ids here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from critmin.errors import ReferenceDataError
from critmin.refdata.registry import DatasetSpec

ORACLES = "../oracles"
TABLE3 = f"{ORACLES}/eu_crm2017_table3_results.csv"
TABLE18 = f"{ORACLES}/eu_crm2017_table18_si_hhiwgi.csv"
TABLE19 = f"{ORACLES}/eu_crm2017_table19_sr_by_scope.csv"
HISTORY = f"{ORACLES}/eu_crm_sr_ei_2011_2023.csv"

REPORT_2017 = (
    "European Commission (Deloitte, BGS, BRGM, TNO), Study on the review of the list of Critical Raw "
    "Materials - Final Report (June 2017), doi:10.2873/876644, "
    "https://op.europa.eu/en/publication-detail/-/publication/08fdab5f-9766-11e7-b92d-01aa75ed71a1"
)
REPORT_2023 = (
    "European Commission, Study on the critical raw materials for the EU 2023 - Final Report, "
    "doi:10.2873/725585, Annex 4 (evolution of CRM scores), "
    "https://op.europa.eu/en/publication-detail/-/publication/57318397-fdd4-11ed-a05c-01aa75ed71a1 ; "
    "transcribed in github.com/erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-Datasets (CC BY 4.0)"
)
LICENCE = (
    "European Commission reports: reproduction authorised provided the source is acknowledged; CC BY 4.0"
)
RETRIEVED = "2026-11-28"

# EU material name -> critmin mineral id (null: not a critmin mineral, or an aggregate critmin does not use).
EU_TO_MINERAL: dict[str, str | None] = {
    "Aluminium": "aluminum",
    "Antimony": "antimony",
    "Arsenic": "arsenic",
    "Baryte": "barite",
    "Bauxite": "aluminum",
    "Beryllium": "beryllium",
    "Bismuth": "bismuth",
    "Borate": "boron",
    "Boron": "boron",
    "Cerium": "cerium",
    "Chromium": "chromium",
    "Cobalt": "cobalt",
    "Coking coal": "metallurgical_coal",
    "Copper": "copper",
    "Dysprosium": "dysprosium",
    "Erbium": "erbium",
    "Europium": "europium",
    "Fluorspar": "fluorspar",
    "Gadolinium": "gadolinium",
    "Gallium": "gallium",
    "Germanium": "germanium",
    "Hafnium": "hafnium",
    "Helium": "helium",
    "Holmium": "holmium",
    "Indium": "indium",
    "Iridium": "iridium",
    "Lanthanum": "lanthanum",
    "Lead": "lead",
    "Lithium": "lithium",
    "Lutetium": "lutetium",
    "Magnesium": "magnesium",
    "Manganese": "manganese",
    "Natural graphite": "graphite",
    "Neodymium": "neodymium",
    "Nickel": "nickel",
    "Niobium": "niobium",
    "Palladium": "palladium",
    "PGMs": "platinum_group_metals",
    "Phosphate rock": "phosphate",
    "Platinum": "platinum",
    "Potash": "potash",
    "Praseodymium": "praseodymium",
    "Rhenium": "rhenium",
    "Rhodium": "rhodium",
    "Ruthenium": "ruthenium",
    "Samarium": "samarium",
    "Scandium": "scandium",
    "Silicon metal": "silicon",
    "Silver": "silver",
    "Strontium": "strontium",
    "Tantalum": "tantalum",
    "Tellurium": "tellurium",
    "Terbium": "terbium",
    "Thulium": "thulium",
    "Tin": "tin",
    "Titanium": "titanium",
    "Titanium metal": "titanium",
    "Tungsten": "tungsten",
    "Vanadium": "vanadium",
    "Ytterbium": "ytterbium",
    "Yttrium": "yttrium",
    "Zinc": "zinc",
    "Zirconium": "zirconium",
}

SCOPES = {"GS + EUS": "both", "GS only": "gs", "EUS only": "eu"}
STAGES = {"Extraction": "extraction", "Processing": "processing"}


def _read(raw_dir: Path, relative: str) -> pl.DataFrame:
    path = raw_dir / relative
    if not path.exists():
        raise ReferenceDataError(
            f"Published EU table {path} is missing; it lives in the shared oracle folder beside the raw data "
            "(set CRITMIN_RAW_DIR so that ../oracles resolves)."
        )
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if not first.startswith("# source:"):
        raise ReferenceDataError(f"{path}: expected a '# source:' first line, found {first[:60]!r}.")
    return pl.read_csv(path, skip_rows=1, infer_schema_length=0)


def _number(frame: pl.DataFrame, column: str, path: str, *, out: str, scale: float = 1.0) -> pl.DataFrame:
    """Parse a published number column; 'N/A' and '-' are 'not assessed' (null), anything else must parse."""
    text = pl.col(column).str.strip_chars()
    missing = text.is_in(["N/A", "-", ""])
    parsed = frame.with_columns(text.cast(pl.Float64, strict=False).alias("__v"), missing.alias("__m"))
    bad = parsed.filter(pl.col("__v").is_null() & ~pl.col("__m"))
    if bad.height:
        raise ReferenceDataError(f"{path}, column {column!r}: {bad[column][0]!r} is not a number or N/A.")
    return parsed.with_columns((pl.col("__v") / scale).alias(out)).drop("__v", "__m")


def _mineral(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("material")
        .replace_strict(EU_TO_MINERAL, default=None, return_dtype=pl.String)
        .alias("mineral_id")
    )


def build_eu_crm2017(raw_dir: Path) -> pl.DataFrame:
    t3 = _read(raw_dir, TABLE3)
    t18 = _read(raw_dir, TABLE18)
    t19 = _read(raw_dir, TABLE19)
    for frame, path in ((t3, TABLE3), (t18, TABLE18), (t19, TABLE19)):
        if frame.height != 78:
            raise ReferenceDataError(
                f"{path}: expected the 78 materials of the 2017 assessment, got {frame.height}."
            )
    unknown_scope = sorted(set(t3["supply_used_in_SR"].to_list()) - set(SCOPES))
    unknown_stage = sorted(set(t3["stage"].to_list()) - set(STAGES))
    if unknown_scope or unknown_stage:
        raise ReferenceDataError(f"{TABLE3}: unknown supply scope {unknown_scope} or stage {unknown_stage}.")
    t3 = _number(t3, "SR", TABLE3, out="sr")
    t3 = _number(t3, "EI", TABLE3, out="ei")
    t3 = _number(t3, "IR_pct", TABLE3, out="ir", scale=100.0)
    t3 = _number(t3, "EoL_RIR_pct", TABLE3, out="eol_rir", scale=100.0)
    t18 = _number(t18, "SI_EI", TABLE18, out="si_ei")
    t18 = _number(t18, "SI_SR", TABLE18, out="si_sr")
    t18 = _number(t18, "HHI_WGI_t_GS", TABLE18, out="hhi_wgi_t_gs")
    t18 = _number(t18, "HHI_WGI_t_EU", TABLE18, out="hhi_wgi_t_eu")
    t19 = _number(t19, "SR_global_supply_only", TABLE19, out="sr_gs_only")
    t19 = _number(t19, "SR_EU_sourcing_only", TABLE19, out="sr_eu_only")
    merged = t3.join(t18, on="material", how="full", coalesce=True).join(
        t19, on="material", how="full", coalesce=True
    )
    if merged.height != 78 or merged["sr"].null_count() or merged["si_sr"].null_count():
        raise ReferenceDataError(f"{TABLE3}, {TABLE18} and {TABLE19} do not list the same 78 materials.")
    out = _mineral(merged).select(
        "material",
        "mineral_id",
        pl.col("stage").replace_strict(STAGES).alias("stage"),
        pl.col("supply_used_in_SR").replace_strict(SCOPES).alias("scope"),
        "sr",
        "ei",
        "ir",
        "eol_rir",
        "si_ei",
        "si_sr",
        "hhi_wgi_t_gs",
        "hhi_wgi_t_eu",
        "sr_gs_only",
        "sr_eu_only",
    )
    return out.sort("material")


def build_eu_sr_history(raw_dir: Path) -> pl.DataFrame:
    raw = _read(raw_dir, HISTORY)
    frame = _number(raw.rename({"Material": "material", "Year": "year_text"}), "SR", HISTORY, out="sr")
    frame = _number(frame, "EI", HISTORY, out="ei")
    frame = frame.with_columns(pl.col("year_text").cast(pl.Int64).alias("year"))
    assessed = frame.filter(pl.col("sr").is_not_null() | pl.col("ei").is_not_null())
    out = _mineral(assessed).select("material", "mineral_id", "year", "sr", "ei")
    dup = out.filter(pl.struct("material", "year").is_duplicated())
    if dup.height:
        raise ReferenceDataError(f"{HISTORY}: material/year repeated: {dup.row(0)}.")
    return out.sort("material", "year")


SPECS: list[DatasetSpec] = [
    DatasetSpec(
        id="eu_crm2017",
        title="EU critical raw materials 2017: supply-risk inputs and results (78 materials)",
        source=f"{REPORT_2017}; Table 3 (pp. 33-35), Annex 5 Tables 18-19 (pp. 79-82)",
        licence=LICENCE,
        vintage="EU CRM assessment 2017 (data mostly 2010-2014 averages)",
        retrieved=RETRIEVED,
        description=(
            "Per material: stage (extraction | processing, the assessed bottleneck), scope of supply used in "
            "SR (both | gs | eu), published SR and EI, import reliance ir and end-of-life recycling input "
            "rate eol_rir (fractions; negative IR already set to 0), substitution indices si_ei and si_sr, "
            "HHI_WGI,t of global supply (hhi_wgi_t_gs) and of EU sourcing (hhi_wgi_t_eu), and SR on global "
            "supply only / EU sourcing only (Table 19). All printed to one decimal. mineral_id maps the EU "
            "name to critmin's id (null for materials critmin does not track)."
        ),
        build=build_eu_crm2017,
        raw_inputs=(TABLE3, TABLE18, TABLE19),
    ),
    DatasetSpec(
        id="eu_crm_sr_ei_history",
        title="EU critical raw materials: supply risk and economic importance, 2011-2023 assessments",
        source=REPORT_2023,
        licence=LICENCE,
        vintage="EU CRM assessments 2011, 2014, 2017, 2020, 2023",
        retrieved=RETRIEVED,
        description=(
            "SR and EI per material and assessment year as printed in the 2023 report (rows not assessed in "
            "a year are omitted). The 2023 'Aluminium' row is the merged aluminium/bauxite assessment. "
            "Thresholds: SR >= 1.0 and EI >= 2.8 from 2017 (EI >= 5 in 2011 and 2014)."
        ),
        build=build_eu_sr_history,
        raw_inputs=(HISTORY,),
    ),
]
