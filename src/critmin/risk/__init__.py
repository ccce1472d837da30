"""Supply-risk and concentration indicators, each validated against a published method.

Modules: ``concentration`` (HHI, top-k shares), ``governance`` (EU HHI_WGI,t), ``eu_sr`` (EU 2017 supply
risk), ``geopolrisk`` (GeoPolRisk score and characterisation factor, country, region and company mode),
``exposure`` (net import reliance, foreign-entity and partner shares, DFARS flags), ``table`` (the U.S. risk
table) and ``charts`` (Plotly figures). Formulas and validation results: ``docs/risk.md``.
"""

from critmin.risk.errors import RiskDataError

__all__ = ["RiskDataError"]
