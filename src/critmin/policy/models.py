"""Typed models of trade measures and scenarios, as written in YAML (format: ``docs/measures.md``).

A measure says, as data, what the law says: which products (HTS prefixes, shipped HTS lists, minerals,
processing stages) from which origins (countries and dated country groups), between which dates, pay what
(ad valorem, specific, compound, the HTS schedule's own rate, a price floor, or a tariff-rate quota) on
which basis (customs value, the value of a metal's content, the rest of the value, quantity, content
mass), and how it sits next to other measures (what it excludes, what it does not stack on). The duty
engine reads nothing else, so every rule a user could check is visible in a file with its citation.

Rates are fractions (``0.25``) or percent strings (``"25%"``).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

# ---------------------------------------------------------------------------------------------------------
# closed vocabularies


class Authority(StrEnum):
    """The legal authority a measure is imposed under (what a broker would call the duty's 'program')."""

    mfn = "mfn"
    preference = "preference"
    section_232 = "section_232"
    section_301 = "section_301"
    section_122 = "section_122"
    ieepa = "ieepa"
    ad_cvd = "ad_cvd"
    other = "other"


class LegalStatus(StrEnum):
    """Legal status is data: an expired measure still applies to entries inside its window."""

    in_force = "in_force"
    scenario = "scenario"
    proposed = "proposed"
    expired = "expired"
    invalidated = "invalidated"
    suspended = "suspended"


class Basis(StrEnum):
    """What a rate is multiplied by."""

    customs_value = "customs_value"
    content_value = "content_value"  # value of the named metal/mineral content (Section 232 content basis)
    non_content_value = "non_content_value"  # customs value minus that content value
    quantity = "quantity"  # quantity in the rate's unit (kg, or the line's HTS unit)
    content_mass = "content_mass"  # kg of the named mineral contained in the line


VALUE_BASES = frozenset({Basis.customs_value, Basis.content_value, Basis.non_content_value})
QUANTITY_BASES = frozenset({Basis.quantity, Basis.content_mass})
CONTENT_BASES = frozenset({Basis.content_value, Basis.non_content_value, Basis.content_mass})

Stage = Literal["ore_concentrate", "oxide_salt_compound", "metal_powder_alloy", "semi_finished", "derivative"]
STAGES: tuple[str, ...] = (
    "ore_concentrate",
    "oxide_salt_compound",
    "metal_powder_alloy",
    "semi_finished",
    "derivative",
)
GroupId = Literal["feoc", "dfars_covered", "usmca", "us_fta", "msp", "forge", "us_cm_frameworks", "eu27"]
GROUP_IDS: tuple[str, ...] = (
    "feoc",
    "dfars_covered",
    "usmca",
    "us_fta",
    "msp",
    "forge",
    "us_cm_frameworks",
    "eu27",
)
CountryField = Literal["country_origin", "country_smelt_cast", "country_export"]
Mechanism = Literal["variable_levy", "minimum_import_price", "price_undertaking"]
Payer = Literal["customs", "exporter"]

# ---------------------------------------------------------------------------------------------------------
# scalar types


def _fraction(value: Any) -> Any:
    """Accept 0.25, 25% or "25 %"; a percent string becomes a fraction."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return float(text[:-1].strip()) / 100.0
            except ValueError:
                return value
    return value


def _hts_prefix(value: Any) -> Any:
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        digits = re.sub(r"[.\s]", "", value)
        if not re.fullmatch(r"\d{2,10}", digits):
            raise ValueError(
                f"HTS prefix {value!r} must be 2 to 10 digits (dots allowed), e.g. '8505.11' or '28053000'"
            )
        return digits
    return value


def _iso3(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[A-Z]{3}", value):
        hint = ""
        try:
            from critmin.refdata.countries import resolve

            hint = f" ({value!r} is {resolve(value)})"
        except Exception:  # an unknown name, or no country data: the generic hint stands
            hint = ""
        raise ValueError(
            f"country {value!r} must be an ISO 3166 alpha-3 code in capitals{hint}, e.g. CHN, CAN, DEU"
        )
    return value


def _heading(value: Any) -> Any:
    """Chapter 99 headings are written 9903.82.02; digits alone (99038202) are accepted and dotted."""
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        digits = re.sub(r"[.\s]", "", value)
        if not re.fullmatch(r"99\d{6}", digits):
            raise ValueError(f"Chapter 99 heading {value!r} must be 8 digits starting 99, e.g. '9903.82.02'")
        return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"
    return value


Fraction = Annotated[float, BeforeValidator(_fraction), Field(ge=0.0)]
Heading = Annotated[str, BeforeValidator(_heading)]
HtsPrefix = Annotated[str, BeforeValidator(_hts_prefix)]
Iso3 = Annotated[str, BeforeValidator(_iso3)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
MineralId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------------------
# parts of a measure


class Citation(_Model):
    """Where a measure's facts come from: every shipped measure has at least one.

    ``document`` names the primary document (FR citation and document number, proclamation, CSMS message,
    court docket) and ``url`` points at it; ``read_at`` keeps the copy that was actually read when it is not
    the primary document itself, so a reader can tell the source from the place it was found.
    """

    document: str = Field(min_length=3)
    date: date
    url: str = Field(pattern=r"^https?://\S+$")
    read_at: str | None = Field(default=None, pattern=r"^https?://\S+$")
    note: str | None = None


class HtsListRef(_Model):
    """A shipped HTS product list (a reference dataset with an ``hts_prefix`` column), optionally filtered."""

    dataset: Identifier
    where: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("where", mode="before")
    @classmethod
    def _scalars_to_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in value.items()}
        return value

    def label(self) -> str:
        if not self.where:
            return self.dataset
        cond = ", ".join(f"{k} in {sorted(v)}" for k, v in sorted(self.where.items()))
        return f"{self.dataset}[{cond}]"


class ProductScope(_Model):
    """Which goods a measure covers. HTS criteria, minerals and stages must all hold; exclusions win."""

    all: bool = False
    hts: list[HtsPrefix] = Field(default_factory=list)
    hts_lists: list[HtsListRef] = Field(default_factory=list)
    exclude_hts: list[HtsPrefix] = Field(default_factory=list)
    exclude_hts_lists: list[HtsListRef] = Field(default_factory=list)
    minerals: list[MineralId] | None = None
    stages: list[Stage] | None = None
    classified: bool = False  # any line the PCMDP scope map maps to a critical mineral

    @model_validator(mode="after")
    def _something_selected(self) -> ProductScope:
        if not (self.all or self.hts or self.hts_lists or self.minerals or self.stages or self.classified):
            raise ValueError(
                "products selects nothing: give `hts`, `hts_lists`, `minerals`, `stages`, `classified: true` "
                "or `all: true`"
            )
        if self.minerals == [] or self.stages == []:
            raise ValueError("`minerals`/`stages` must list at least one value (leave the key out for any)")
        return self

    @property
    def hts_restricted(self) -> bool:
        return bool(self.hts or self.hts_lists) and not self.all


class OriginScope(_Model):
    """Which origins a measure covers, as of each line's (evaluation) date. No includes = every origin."""

    countries: list[Iso3] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)
    exclude_countries: list[Iso3] = Field(default_factory=list)
    exclude_groups: list[GroupId] = Field(default_factory=list)
    country_field: CountryField = "country_origin"
    fallback_to_origin: bool = True  # when country_field is empty on a line, use country_origin

    @property
    def covers_all(self) -> bool:
        return not self.countries and not self.groups

    def group_ids(self) -> set[str]:
        return set(self.groups) | set(self.exclude_groups)


class ProgrammeOrigin(_Model):
    """Origins eligible for one special programme (empty = any origin the programme code is claimed for)."""

    countries: list[Iso3] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)


class Claim(_Model):
    """A preference applies only where the line claims one of these programme codes and is eligible."""

    programmes: dict[str, ProgrammeOrigin] = Field(min_length=1)

    @field_validator("programmes", mode="before")
    @classmethod
    def _none_is_any(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ({} if v is None else v) for k, v in value.items()}
        return value


class ContentSpec(_Model):
    """Which contained metal/mineral a content basis refers to ("classified" = the line's own minerals).

    Content comes from the ledger, else from the shipped content factors. Where neither gives it,
    ``fallback_share`` (a fraction of customs value, 1.0 = the whole value) is assumed and the line is
    flagged; without it the amount is left unknown and the line is flagged.
    """

    minerals: list[MineralId] | Literal["classified"]
    fallback_share: Fraction | None = Field(default=None, le=1.0)
    estimate: bool = True
    """False: content the line does not state is not estimated from content factors but taken as
    ``fallback_share`` of the value (CBP: unknown steel, aluminium or copper content = the whole value)."""

    def key(self) -> str:
        return "classified" if self.minerals == "classified" else ",".join(sorted(self.minerals))


class RateModel(_Model):
    """The parameters of one rate mechanism; ``kind`` names it.

    Each kind is registered (:func:`register_rate_model`), so a measure file is validated against the model
    of the kind it names, and a mechanism added elsewhere (``critmin.duty.mechanisms.register``) is a kind
    like the core ones rather than an edit to a closed union.
    """

    kind: str


RATE_MODELS: dict[str, type[RateModel]] = {}


def rate_kind(model: type[RateModel]) -> str:
    """The kind a rate model declares (its ``kind: Literal["..."]`` field)."""
    kinds = get_args(model.model_fields["kind"].annotation)
    if len(kinds) != 1 or not isinstance(kinds[0], str):
        raise TypeError(f"{model.__name__}.kind must be declared as Literal['<kind>']")
    return kinds[0]


def register_rate_model(model: type[RateModel]) -> type[RateModel]:
    """Make ``rate: {kind: ...}`` validate into ``model``; registering the same model twice is a no-op."""
    kind = rate_kind(model)
    known = RATE_MODELS.get(kind)
    if known is not None and known is not model:
        raise ValueError(f"rate kind {kind!r} is already registered (by {known.__name__})")
    RATE_MODELS[kind] = model
    return model


def _rate_of_its_kind(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get("kind")
        model = RATE_MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(sorted(RATE_MODELS))
            raise ValueError(f"unknown rate kind {kind!r}: set `kind` to one of {known}")
        return model.model_validate(value)
    return value


@register_rate_model
class AdValorem(RateModel):
    kind: Literal["ad_valorem"]
    rate: Fraction


@register_rate_model
class Specific(RateModel):
    """USD per unit of the basis quantity; ``unit`` is kg or an HTS unit code such as ``no``."""

    kind: Literal["specific"]
    amount: float = Field(ge=0)
    unit: str = "kg"


@register_rate_model
class Compound(RateModel):
    """Ad valorem on the value basis plus a specific amount per unit of quantity."""

    kind: Literal["compound"]
    rate: Fraction
    amount: float = Field(ge=0)
    unit: str = "kg"
    quantity_basis: Literal["quantity", "content_mass"] = "quantity"


@register_rate_model
class ScheduleRate(RateModel):
    """The rate printed in the HTS schedule for the line's code: the general (MFN) or special column."""

    kind: Literal["schedule"]
    column: Literal["general", "special", "column_2"]


class ReferencePrice(_Model):
    """A reference (floor) price in USD per kg, for a mineral and stage; null mineral/stage = any."""

    mineral: MineralId | None = None
    stage: Stage | None = None
    price_usd_per_kg: float = Field(gt=0)
    source: str = Field(min_length=3)


class ShippedPrices(_Model):
    """Reference prices from the shipped ``mineral_prices`` dataset (USGS MCS), times ``multiplier``.

    One price per mineral and stage: the given ``year`` (else the latest), the first basis in alphabetical
    order where the dataset has several. Entries in ``reference_prices`` for the same mineral and stage win.
    """

    multiplier: float = Field(default=1.0, gt=0)
    year: int | None = Field(default=None, ge=1990, le=2100)


@register_rate_model
class PriceFloor(RateModel):
    """A floor on the unit price, per kg of product or per kg of contained mineral.

    variable_levy: duty ``max(0, ref - unit_price) x qty``; minimum_import_price: an adjustable ad valorem
    rate
    ``max(0, ref / unit_price - 1)`` on customs value; price_undertaking: the same difference paid to the
    exporter (a cost, not duty revenue).
    """

    kind: Literal["price_floor"]
    mechanism: Mechanism
    per: Literal["product_kg", "content_kg"] = "product_kg"
    reference_prices: list[ReferencePrice] = Field(default_factory=list)
    shipped_prices: ShippedPrices | None = None

    @model_validator(mode="after")
    def _has_prices(self) -> PriceFloor:
        if not self.reference_prices and self.shipped_prices is None:
            raise ValueError("a price floor needs `reference_prices`, `shipped_prices`, or both")
        return self


@register_rate_model
class TopUpToCap(RateModel):
    """An additional duty that brings the line's column-1 rate up to a cap, and no more.

    rate = max(0, cap - column-1 rate of the line's HTS code): where the printed general rate already
    reaches the cap the measure charges nothing (the "no additional duty" heading), otherwise the difference
    (the "combined to cap" heading). Section 301 forced-labor caps for the EU, Japan, Korea, Switzerland and
    Taiwan, and the Section 232 polysilicon all-in rate for allies, work this way.
    """

    kind: Literal["top_up_to_cap"]
    cap: Fraction


@register_rate_model
class MinimumPriceBackstop(RateModel):
    """A minimum import price kept as a backstop behind an ad valorem duty.

    amount = max(ad valorem part, minimum_price x quantity - customs value): the line pays the ad valorem
    duty (``rate``: an ad valorem rate or a top-up to a cap; none = 0), or, where the declared unit price is
    below the minimum, the specific duty that lifts the landed price to the minimum, whichever is higher.
    ``unit`` is kg (``quantity_kg``) or a ledger unit such as ``W``. A line without a quantity in that unit
    pays the ad valorem part and is flagged: that amount is a lower bound.
    """

    kind: Literal["minimum_price_backstop"]
    minimum_price: float = Field(gt=0)
    unit: str = "kg"
    rate: AdValorem | TopUpToCap | None = None


Rate = Annotated[SerializeAsAny[RateModel], BeforeValidator(_rate_of_its_kind)]
"""Any registered rate kind (the core ones above, and those added through critmin.duty.mechanisms)."""
QuotaRate = Annotated[AdValorem | Specific | Compound, Field(discriminator="kind")]


class Allocation(_Model):
    """A share of the quota reserved for some origins; ``rest: true`` takes every origin not listed."""

    name: Identifier
    countries: list[Iso3] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)
    rest: bool = False
    share: Fraction | None = Field(default=None, le=1.0)
    volume: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_size(self) -> Allocation:
        if (self.share is None) == (self.volume is None):
            raise ValueError(f"allocation {self.name!r} needs exactly one of `share` or `volume`")
        if self.rest and (self.countries or self.groups):
            raise ValueError(f"allocation {self.name!r}: `rest: true` cannot also list countries or groups")
        if not self.rest and not (self.countries or self.groups):
            raise ValueError(f"allocation {self.name!r} lists no countries or groups (or set `rest: true`)")
        return self


class Quota(_Model):
    """A tariff-rate quota (or hard quota) filled in entry-date order across the ledger."""

    volume: float = Field(gt=0)
    unit: Literal["kg", "content_kg", "usd"]
    period: Literal["year", "half_year", "quarter", "month", "window"] = "year"
    allocations: list[Allocation] = Field(default_factory=list)
    in_quota: QuotaRate
    over_quota: QuotaRate | None = None
    hard_cap: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Quota:
        if self.hard_cap and self.over_quota is not None:
            raise ValueError("a hard-cap quota has no over-quota rate: remove `over_quota` or `hard_cap`")
        if not self.hard_cap and self.over_quota is None:
            raise ValueError("give `over_quota` (the rate beyond the quota) or set `hard_cap: true`")
        shares = sum(a.share for a in self.allocations if a.share is not None)
        if shares > 1.0 + 1e-9:
            raise ValueError(f"allocation shares add up to {shares:.4g}, more than 1")
        names = [a.name for a in self.allocations]
        if len(set(names)) != len(names):
            raise ValueError("allocation names must be unique")
        if sum(a.rest for a in self.allocations) > 1:
            raise ValueError("only one allocation may have `rest: true`")
        return self


class MetalWeightGate(_Model):
    """Outside the listed chapters, a good is covered only if the metal is at least ``min_share`` of its
    weight (Section 232 metals from 2026-04-06: 15%, outside chapters 72, 73, 74 and 76).

    The share is read from the line (``content_kg`` of a listed ``content_mineral`` over ``quantity_kg``).
    A line that does not state it stays covered and is flagged: coverage cannot be ruled out.
    """

    min_share: Fraction = Field(le=1.0)
    minerals: list[MineralId] = Field(min_length=1)
    except_chapters: list[Annotated[str, Field(pattern=r"^\d{2}$")]] = Field(default_factory=list)


class UsContentGate(_Model):
    """A tier that depends on the share of the metal melted/poured or smelted/cast in the United States
    (ledger column ``us_metal_content_share``). ``at_least``: the reduced tier, only for lines stating a
    share at or above it; ``below``: the standard tier, for lines below it or not stating it."""

    at_least: Fraction | None = Field(default=None, le=1.0)
    below: Fraction | None = Field(default=None, le=1.0)

    @model_validator(mode="after")
    def _one(self) -> UsContentGate:
        if (self.at_least is None) == (self.below is None):
            raise ValueError("us_content needs exactly one of `at_least` or `below`")
        return self


Verification = Literal["verified", "reported"]


class Stacking(_Model):
    """How a measure sits next to others. References are measure ids or ``authority:<name>``."""

    precedence: int = 100
    excludes: list[str] = Field(default_factory=list)
    not_on: list[str] = Field(default_factory=list)

    @field_validator("excludes", "not_on")
    @classmethod
    def _refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            if ref.startswith("authority:"):
                name = ref.removeprefix("authority:")
                if name not in Authority.__members__:
                    known = ", ".join(Authority.__members__)
                    raise ValueError(f"{ref!r}: unknown authority {name!r}; known: {known}")
            elif ref.startswith("family:"):
                if not re.fullmatch(r"family:[a-z][a-z0-9_]*", ref):
                    raise ValueError(f"{ref!r}: a family name is lower_snake_case, e.g. family:s301_fl")
            elif not re.fullmatch(r"[a-z][a-z0-9_]*", ref):
                raise ValueError(f"{ref!r} is neither a measure id, `authority:<name>` nor `family:<name>`")
        return value


# ---------------------------------------------------------------------------------------------------------
# the measure


class Measure(_Model):
    """One legal measure (or one scenario measure) as data."""

    id: Identifier
    title: str = Field(min_length=3)
    authority: Authority
    status: LegalStatus
    refund_eligible: bool = False
    headings: list[Heading] = Field(default_factory=list)
    """The Chapter 99 heading(s) an entry line reports for this measure (empty for column-1 duties)."""
    verification: Verification = "reported"
    """``verified``: checked against the HTS revision text or the Federal Register document named in
    ``verified_against``; ``reported``: from secondary sources only."""
    verified_against: str | None = None
    family: Identifier | None = None
    """A named group of measures (``family:<name>`` in stacking references), e.g. every Section 301
    forced-labor rate."""
    citations: list[Citation] = Field(min_length=1)
    effective_from: date | None = None
    effective_until: date | None = None  # inclusive: the last day an entry pays
    products: ProductScope
    origin: OriginScope = Field(default_factory=OriginScope)
    claim: Claim | None = None
    exempt_if_claimed: Claim | None = None
    """Lines that claim one of these programmes from an eligible origin are outside the measure (USMCA
    goods of Canada and Mexico under Section 122 and the Section 301 forced-labor action)."""
    metal_weight: MetalWeightGate | None = None
    us_content: UsContentGate | None = None
    basis: Basis = Basis.customs_value
    content: ContentSpec | None = None
    rate: Rate | None = None
    quota: Quota | None = None
    stacking: Stacking = Field(default_factory=Stacking)
    notes: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Measure:
        if (self.rate is None) == (self.quota is None):
            raise ValueError("give exactly one of `rate` or `quota`")
        if self.effective_from and self.effective_until and self.effective_until < self.effective_from:
            raise ValueError(
                f"effective_until {self.effective_until} is before effective_from {self.effective_from}"
            )
        if self.refund_eligible and self.status is not LegalStatus.invalidated:
            raise ValueError("refund_eligible applies only to status `invalidated`")
        if self.verification == "verified" and not self.verified_against:
            raise ValueError("a `verified` measure names what it was checked against in `verified_against`")
        rate = self.rate
        if isinstance(rate, AdValorem | Compound) and self.basis not in VALUE_BASES:
            raise ValueError(
                f"a {rate.kind} rate needs a value basis (customs_value, content_value, "
                f"non_content_value), not {self.basis.value}"
            )
        if isinstance(rate, Specific) and self.basis not in QUANTITY_BASES:
            raise ValueError(
                f"a specific rate needs basis `quantity` or `content_mass`, not {self.basis.value}"
            )
        if isinstance(rate, Specific) and self.basis is Basis.content_mass and rate.unit != "kg":
            raise ValueError("a specific rate on content_mass is per kg: set `unit: kg`")
        if (
            isinstance(rate, ScheduleRate | PriceFloor | TopUpToCap | MinimumPriceBackstop)
            and self.basis is not Basis.customs_value
        ):
            raise ValueError(f"a {rate.kind} rate uses basis customs_value")
        if isinstance(rate, ScheduleRate) and rate.column == "special" and self.claim is None:
            raise ValueError("the special (preference) column needs a `claim` block listing programme codes")
        if self.quota is not None:
            for part in (self.quota.in_quota, self.quota.over_quota):
                if isinstance(part, AdValorem | Compound) and self.basis not in VALUE_BASES:
                    raise ValueError("quota rates that are ad valorem or compound need a value basis")
                if isinstance(part, Specific) and self.basis not in QUANTITY_BASES:
                    raise ValueError("specific quota rates need basis `quantity` or `content_mass`")
        if self.needs_content and self.content is None:
            raise ValueError(
                "this measure uses content (basis, floor per content_kg or quota in content_kg): "
                "add `content: {minerals: [copper]}` or `content: {minerals: classified}`"
            )
        return self

    @property
    def needs_content(self) -> bool:
        if self.basis in CONTENT_BASES:
            return True
        if isinstance(self.rate, PriceFloor) and self.rate.per == "content_kg":
            return True
        if isinstance(self.rate, Compound) and self.rate.quantity_basis == "content_mass":
            return True
        return self.quota is not None and self.quota.unit == "content_kg"

    @property
    def claims_value(self) -> bool:
        """Does the measure charge a portion of value that others may decline to stack on (``not_on``)?

        A zero-rate measure (Proclamation 11001's "no tariff", the 0% non-copper line 9903.78.02) charges
        nothing, so nothing is removed from the bases of measures that do not stack on it.
        """
        if self.basis not in VALUE_BASES:
            return False
        return not (isinstance(self.rate, AdValorem) and self.rate.rate == 0.0)

    @property
    def charges(self) -> bool:
        """False for a measure that can only ever charge 0 (it is shown for the record)."""
        return not (isinstance(self.rate, AdValorem) and self.rate.rate == 0.0)

    @property
    def payer(self) -> Payer:
        if isinstance(self.rate, PriceFloor) and self.rate.mechanism == "price_undertaking":
            return "exporter"
        return "customs"

    @property
    def citation_text(self) -> str:
        """One-line citation used in result tables: document (date) URL; further sources after ' | '."""
        return " | ".join(f"{c.document} ({c.date.isoformat()}) {c.url}" for c in self.citations)

    def window_contains(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_until is None or day <= self.effective_until
        )

    def window_text(self) -> str:
        start = self.effective_from.isoformat() if self.effective_from else "…"
        end = self.effective_until.isoformat() if self.effective_until else "…"
        return f"{start} .. {end}"

    def references(self) -> list[str]:
        return [*self.stacking.excludes, *self.stacking.not_on]


# ---------------------------------------------------------------------------------------------------------
# files


class MeasureFile(_Model):
    """A library file: a list of measures (``library`` names the library it belongs to)."""

    library: Literal["in_force", "scenario"] = "in_force"
    description: str | None = None
    measures: list[Measure] = Field(min_length=1)


class Parameter(_Model):
    """A scenario parameter; ``example: true`` marks a value chosen for illustration, not from a source."""

    value: Any
    description: str = Field(min_length=3)
    example: bool = False
    unit: str | None = None
    source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _dated_value(cls, data: Any) -> Any:
        """A parameter whose unit is a date holds a date (YAML files keep dates as text)."""
        if isinstance(data, dict) and is_date_unit(data.get("unit")) and isinstance(data.get("value"), str):
            return {**data, "value": date.fromisoformat(data["value"])}
        return data


def is_date_unit(unit: str | None) -> bool:
    """Whether a parameter's unit declares a calendar date (``date, YYYY-MM-DD``)."""
    return bool(unit) and str(unit).strip().lower().startswith("date")


class ScenarioSpec(_Model):
    """A named set of measures: the in-force library (or nothing) plus inline measures and parameters."""

    id: Identifier
    title: str = Field(min_length=3)
    description: str = Field(min_length=3)
    base: Literal["in_force", "none"] = "in_force"
    include: list[Identifier] = Field(default_factory=list)
    exclude: list[Identifier] = Field(default_factory=list)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    measures: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"parameter name {name!r} must be lower_snake_case")
        return value


class ScenarioFile(_Model):
    scenario: ScenarioSpec
