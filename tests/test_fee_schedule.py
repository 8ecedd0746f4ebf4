"""Medicare fee schedule amounts, MPPR, CQ/CO, figures by date, KX marks and the CMS file imports."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from ptbilling.rules import datasets, fee_schedule, gpci_file, rvu_file
from ptbilling.rules.errors import BadValue, DataImportError, UnknownCode, UnknownLocality, UnsupportedDate
from ptbilling.rules.fee_schedule import (
    FeeLine,
    KxLine,
    conversion_factor,
    gpci,
    import_gpci,
    import_rvu,
    kx_marks,
    kx_threshold,
    price_lines,
    review_threshold,
)

D2025 = dt.date(2025, 6, 1)
CF2025 = Decimal("32.3465")
FIGURES = datasets.SHIPPED_DIR / "figures.json"


def line(code, units=1, dos=D2025, mods=(), visit="v1"):
    return FeeLine(code, units, dos, frozenset(mods), visit)


def amounts(*lines, locality=None):
    return [f.amount for f in price_lines(list(lines), locality)]


def pprrvu_text(cms_dir, year=2025, cf="32.3465"):
    """The shared PPRRVU file, retitled for ``year`` and with CONV FACTOR ``cf`` (a synthetic release)."""
    text = (cms_dir / "PPRRVU2025_Oct.therapy.csv").read_text(encoding="utf-8")
    return text.replace("2025 National Physician", f"{year} National Physician").replace("32.3465", cf)


def import_synthetic_rvu(cms_dir, tmp_path, year, cf, name=None):
    path = tmp_path / (name or f"PPRRVU{year}_Jan.csv")
    path.write_text(pprrvu_text(cms_dir, year, cf), encoding="utf-8")
    return import_rvu(path, force=FORCE)


# The fixture files hold a few codes. Over a shipped year (2025, 2026) such a file lacks most
# of the shipped rows and is refused as cut off unless forced, as an office's would be.
FORCE = True


def register_synthetic_rvu(cms_dir, folder, start, end, cf):
    """Write a normalised RVU release into the user data folder and register it (as an import would)."""
    rows = rvu_file.parse_rvu_file(pprrvu_text(cms_dir, start.year, cf))
    rvu_file.write_release_csv(rows, folder / "rvu_synthetic.csv")
    datasets.register_release("rvu", "rvu_synthetic.csv", start, end, name="synthetic test release",
                              source="derived from PPRRVU2025_Oct.therapy.csv", status="official")


# --- the 2025 national worked figures (therapy-billing-rules.md section 7) ----

@pytest.mark.parametrize("code,amount", [("97110", "28.79"), ("97140", "27.17"), ("97530", "34.61"),
                                         ("97161", "98.01")])
def test_2025_national_single_units_match_the_reference(code, amount):
    """One unit alone in a visit pays the reference's 2025 national amount to the cent."""
    assert amounts(line(code)) == [Decimal(amount)]


def test_two_units_of_97110_pay_one_full_and_one_reduced():
    """97110 x2 = 28.79 + 21.83 = 50.62: the second unit gets 50% of its PE."""
    [fee] = price_lines([line("97110", 2)])
    assert fee.amount == Decimal("50.62")
    assert (fee.full_units, fee.reduced_units) == (1, 1)
    assert fee.why.startswith("MPPR: 1 unit full, 1 at 50% PE")


def test_97530_takes_the_full_unit_over_97110():
    """97110 + 97530 in one visit: 97530 (higher PE) 34.61 in full, 97110 reduced to 21.83."""
    fees = price_lines([line("97110"), line("97530")])
    assert [f.amount for f in fees] == [Decimal("21.83"), Decimal("34.61")]
    assert fees[0].why.startswith("MPPR: 1 at 50% PE (97530 paid in full)")
    assert fees[1].why.startswith("MPPR: highest PE, paid in full")


def test_the_order_of_lines_does_not_change_the_amounts():
    """Listing 97530 before 97110 gives the same amounts per code."""
    assert amounts(line("97530"), line("97110")) == [Decimal("34.61"), Decimal("21.83")]


def test_mppr_spans_every_unit_of_every_mult_proc_5_code_in_the_visit():
    """97530 x2 + 97110 x2: one unit of 97530 full; the other three units reduced."""
    fees = price_lines([line("97110", 2), line("97530", 2)])
    reduced_530 = (Decimal("0.44") + Decimal("0.31") + Decimal("0.01")) * CF2025
    assert fees[0].amount == Decimal("43.67")  # 2 x 21.8338875
    assert fees[1].amount == (Decimal("1.07") * CF2025 + reduced_530).quantize(Decimal("0.01"))
    assert [(f.full_units, f.reduced_units) for f in fees] == [(0, 2), (1, 1)]


def test_separate_visits_are_reduced_separately():
    """The same codes under different visit keys, or on different dates, are each paid in full."""
    assert amounts(line("97110", visit="a"), line("97530", visit="b")) == [Decimal("28.79"), Decimal("34.61")]
    other_day = dt.date(2025, 6, 2)
    assert amounts(line("97110"), line("97530", dos=other_day)) == [Decimal("28.79"), Decimal("34.61")]


def test_lines_without_a_visit_key_share_the_visit_of_their_date():
    """FeeLine's default visit (None): all of one date's lines are one visit for MPPR."""
    fees = price_lines([FeeLine("97110", 1, D2025), FeeLine("97530", 1, D2025)])
    assert [f.amount for f in fees] == [Decimal("21.83"), Decimal("34.61")]


def test_codes_without_mult_proc_5_are_not_reduced_and_do_not_reduce():
    """97129 (MULT PROC 0) beside 97110 x1: both paid in full."""
    fees = price_lines([line("97110"), line("97129")])
    assert fees[0].amount == Decimal("28.79")
    assert fees[1].amount == ((Decimal("0.5") + Decimal("0.16") + Decimal("0.01")) * CF2025).quantize(Decimal("0.01"))
    assert "MPPR" not in fees[0].why and "MPPR" not in fees[1].why


def test_equal_pe_goes_to_the_lower_code_when_the_fees_are_equal_too():
    """97110 and 97116 (both 0.45/0.43/0.01): 97110, the lower code, is paid in full either way round."""
    for order in (("97116", "97110"), ("97110", "97116")):
        fees = {f.code: f for f in price_lines([line(c) for c in order])}
        assert fees["97110"].amount == Decimal("28.79") and fees["97116"].amount == Decimal("21.83")


def test_equal_pe_goes_to_the_higher_total_fee_before_the_lower_code():
    """97028 and G0281 share PE 0.16; G0281 (0.35 RVU) beats the lower code 97028 (0.25 RVU)."""
    fees = {f.code: f for f in price_lines([line("97028"), line("G0281")])}
    assert (fees["G0281"].full_units, fees["97028"].full_units) == (1, 0)
    assert fees["G0281"].amount == (Decimal("0.35") * CF2025).quantize(Decimal("0.01"))


def test_equal_lines_of_one_code_give_the_full_unit_to_the_line_without_cq():
    """97110-CQ and 97110 in one visit: the line without CQ is paid in full (28.79), the CQ line 0.85 x 21.83..."""
    fees = price_lines([line("97110", mods={"GP", "CQ"}), line("97110", mods={"GP"})])
    assert [f.amount for f in fees] == [Decimal("18.56"), Decimal("28.79")]  # 0.85 x 21.8338875 = 18.5588
    assert fees[0].assistant and not fees[1].assistant


def test_allowed_amounts_are_the_amounts_price_lines_gives():
    """allowed_amounts (the KX rule's pricing) equals price_lines' amounts on a mixed visit, lists of modifiers too."""
    from ptbilling.rules.fee_schedule import allowed_amounts

    lines = [line("97110", 3, mods={"GP", "CQ"}), line("97530", 2), line("97010"), line("97545"),
             FeeLine("97140", 1, D2025, ["gp", "cq"], "v"), line("97150", 0, visit="other")]
    assert allowed_amounts(lines) == [f.amount for f in price_lines(lines)]
    assert allowed_amounts([FeeLine("97110", 1, D2025, ["CQ"])]) == [Decimal("24.47")]


def test_the_per_unit_amounts_are_kept_in_full_precision_until_the_line_total():
    """97110 x3 is 28.788385 + 2 x 21.8338875 = 72.46, not 28.79 + 2 x 21.83 = 72.45."""
    assert amounts(line("97110", 3)) == [Decimal("72.46")]


# --- CQ / CO (therapy-billing-rules.md section 5) -----------------------------

def test_cq_pays_85_percent_of_the_unrounded_amount():
    """97110-CQ: 0.85 x 28.788385 = 24.47; the reason says 'CQ: 85% from 2022'."""
    [fee] = price_lines([line("97110", mods={"GP", "CQ"})])
    assert fee.amount == Decimal("24.47") and fee.assistant
    assert "CQ: 85% from 2022" in fee.why


def test_cq_rounds_once_at_the_end_not_before_the_85_percent():
    """97140-CQ: 0.85 x 27.17106 = 23.0954 -> 23.10 (rounding 27.17 first would give 23.09)."""
    assert amounts(line("97140", mods={"GP", "CQ"})) == [Decimal("23.10")]


def test_co_is_paid_like_cq():
    """97530-CO: 0.85 x 34.610755 = 29.42."""
    [fee] = price_lines([line("97530", mods={"GO", "CO"})])
    assert fee.amount == Decimal("29.42") and "CO: 85% from 2022" in fee.why


def test_modifiers_given_as_one_text_are_read_as_modifiers_not_letters():
    """FeeLine modifiers 'GP CQ' or 'gp,co' (one text, as a Modifiers cell holds): CQ/CO paid at 85%, as for a set."""
    text_lines = [FeeLine("97110", 1, D2025, "GP CQ", "v1"), FeeLine("97530", 1, D2025, "gp,co", "v2")]
    set_lines = [line("97110", mods={"GP", "CQ"}), line("97530", mods={"GP", "CO"}, visit="v2")]
    assert [f.amount for f in price_lines(text_lines)] == [Decimal("24.47"), Decimal("29.42")]
    assert price_lines(text_lines) == price_lines(set_lines)
    assert fee_schedule.allowed_amounts(text_lines) == [Decimal("24.47"), Decimal("29.42")]


def test_cq_applies_after_the_mppr():
    """97530 + 97110-CQ: the CQ line is reduced by MPPR, then paid at 85% (0.85 x 21.8338875 = 18.56)."""
    assert amounts(line("97530"), line("97110", mods={"CQ"})) == [Decimal("34.61"), Decimal("18.56")]


def test_cq_is_paid_in_full_before_2022_and_at_85_percent_from_2022(cms_dir, isolated_user_data):
    """With a synthetic 2021-2022 release (CF 30): 97110-CQ is 26.70 on 2021-12-31 and 22.70 on 2022-01-01."""
    register_synthetic_rvu(cms_dir, isolated_user_data, dt.date(2021, 1, 1), dt.date(2022, 12, 31), "30")
    before = price_lines([line("97110", dos=dt.date(2021, 12, 31), mods={"CQ"})])[0]
    after = price_lines([line("97110", dos=dt.date(2022, 1, 1), mods={"CQ"})])[0]
    assert (before.amount, before.assistant) == (Decimal("26.70"), False)
    assert "CQ: paid in full before 2022" in before.why
    assert (after.amount, after.assistant) == (Decimal("22.70"), True)  # 0.85 x 26.70 = 22.695, half up


# --- status codes -------------------------------------------------------------

@pytest.mark.parametrize("code,status,why", [
    ("97010", "B", "status B: bundled, never paid separately"),
    ("97014", "I", "status I: not valid for Medicare, bill G0283"),
    ("97169", "N", "status N: not covered by Medicare"),
])
def test_non_payable_statuses_pay_zero_with_the_reason(code, status, why):
    """B, I and N codes pay $0.00 and say why."""
    [fee] = price_lines([line(code)])
    assert (fee.amount, fee.payment_status, fee.why) == (Decimal("0.00"), status, why)


def test_contractor_priced_codes_have_no_amount():
    """97039 (status C) has no fee schedule amount, and the reason names the contractor."""
    [fee] = price_lines([line("97039")])
    assert fee.amount is None and "priced by the contractor" in fee.why


def test_restricted_codes_without_rvus_are_contractor_priced():
    """97545 (status R, no RVUs) has no amount; 97026 (status R with RVUs) is priced with a note."""
    r_none, r_priced = price_lines([line("97545"), line("97026", visit="other")])
    assert r_none.amount is None
    assert r_priced.amount == (Decimal("0.21") * CF2025).quantize(Decimal("0.01"))
    assert r_priced.why.startswith("status R: restricted coverage")


def test_a_bundled_code_does_not_change_the_other_lines():
    """97010 beside 97110 x1: 97110 still 28.79, 97010 0.00."""
    assert amounts(line("97010"), line("97110")) == [Decimal("0.00"), Decimal("28.79")]


def test_zero_units_pay_nothing_and_whole_float_units_are_accepted():
    """0 units -> 0.00; 2.0 units (as Excel sends) equal 2."""
    assert amounts(line("97110", 0)) == [Decimal("0.00")]
    assert amounts(line("97110", 2.0)) == [Decimal("50.62")]


@pytest.mark.parametrize("units", [-1, 1.5, "2", None, True])
def test_bad_units_are_refused(units):
    """Negative, fractional or non-numeric units raise BadValue."""
    with pytest.raises(BadValue, match="units"):
        price_lines([line("97110", units)])


@pytest.mark.parametrize("units", [float("inf"), float("-inf"), float("nan"), Decimal("Infinity"), Decimal("NaN")])
def test_infinite_or_nan_units_are_refused_as_bad_values(units):
    """inf or NaN units raise BadValue naming them, not OverflowError or a bare ValueError from int()."""
    with pytest.raises(BadValue, match="units must be a whole number"):
        price_lines([line("97110", units)])


def test_a_code_missing_from_the_release_is_unknown():
    """99213 is not in the therapy release: UnknownCode (a ValueError) naming it and the release."""
    with pytest.raises(UnknownCode, match="99213.*RVU25D"):
        price_lines([line("99213")])


# --- localities ---------------------------------------------------------------

def test_national_gpcis_are_one():
    """No locality (None, blank or 'national') is the national (1, 1, 1)."""
    for national in (None, "", " National "):
        assert gpci(national, D2025) == (1, 1, 1)


def test_alaska_97110_is_computed_with_its_gpcis():
    """02102-01 (work 1.5, PE 1.081, MP 0.592): 97110 x2 is one full and one reduced unit."""
    gw, gpe, gmp = gpci("02102-01", D2025)
    assert (gw, gpe, gmp) == (Decimal("1.5"), Decimal("1.081"), Decimal("0.592"))
    full = (Decimal("0.45") * gw + Decimal("0.43") * gpe + Decimal("0.01") * gmp) * CF2025
    reduced = (Decimal("0.45") * gw + Decimal("0.43") * gpe / 2 + Decimal("0.01") * gmp) * CF2025
    assert amounts(line("97110"), locality="02102-01") == [Decimal("37.06")]
    assert full.quantize(Decimal("0.01")) == Decimal("37.06")
    assert amounts(line("97110", 2), locality="02102-01") == [(full + reduced).quantize(Decimal("0.01"))]
    assert "locality 02102-01" in price_lines([line("97110")], "02102-01")[0].why


def test_a_locality_with_dropped_zeros_is_understood():
    """'2102-1' is read as 02102-01."""
    assert gpci("2102-1", D2025) == gpci("02102-01", D2025)


def test_an_unknown_locality_is_named_with_the_format_and_examples():
    """99999-99 raises UnknownLocality (a ValueError) naming it, the format and real examples."""
    with pytest.raises(ValueError) as info:
        gpci("99999-99", D2025)
    assert isinstance(info.value, UnknownLocality)
    message = str(info.value)
    assert "99999-99" in message and "<MAC>-<locality number>" in message
    assert "10112-00 (ALABAMA)" in message


def test_a_year_without_gpcis_refuses_a_locality_but_not_the_national_amount():
    """2027 has no GPCI release: a locality raises UnsupportedDate naming 2027 and the zip; national needs none."""
    with pytest.raises(UnsupportedDate, match="2027.*RVU27A.zip with `ptbilling data import`"):
        gpci("02102-01", dt.date(2027, 1, 1))
    assert gpci(None, dt.date(2027, 1, 1)) == (1, 1, 1)


# --- dated figures (figures.json) ---------------------------------------------

@pytest.mark.parametrize("dos,value", [
    (dt.date(2024, 1, 1), "32.7442"), (dt.date(2024, 3, 8), "32.7442"), (dt.date(2024, 3, 9), "33.2875"),
    (dt.date(2024, 12, 31), "33.2875"), (dt.date(2025, 1, 1), "32.3465"), (dt.date(2025, 12, 31), "32.3465"),
    (dt.date(2026, 1, 1), "33.4009"),
])
def test_conversion_factor_by_date(dos, value):
    """The conversion factor follows the date of service, including the 9 March 2024 change."""
    assert conversion_factor(dos).value == Decimal(value)


def test_conversion_factor_statuses_follow_the_reference_tags():
    """2024, 2025 and 2026 factors are official; 2026's cites the CONV FACTOR of the RVU26C file."""
    assert conversion_factor(dt.date(2024, 3, 9)).status == "official"
    assert conversion_factor(D2025).status == "official"
    fig = conversion_factor(dt.date(2026, 7, 1))
    assert fig.status == "official" and "RVU26C" in fig.source and "CONV FACTOR" in fig.source


def test_the_qualifying_apm_factor_is_separate_and_never_the_default():
    """2026: 33.5675 only when asked for qualifying APM participants; 2025 has one factor for all."""
    assert conversion_factor(dt.date(2026, 1, 1)).value == Decimal("33.4009")
    apm = conversion_factor(dt.date(2026, 1, 1), qualifying_apm=True)
    assert (apm.value, apm.status) == (Decimal("33.5675"), "unverified")
    assert conversion_factor(D2025, qualifying_apm=True).value == CF2025


@pytest.mark.parametrize("year", [2023, 2027])
def test_a_year_without_a_conversion_factor_is_refused_with_the_year(year):
    """No figure and no imported release for the year: UnsupportedDate naming it."""
    with pytest.raises(UnsupportedDate, match=str(year)):
        conversion_factor(dt.date(year, 6, 1))
    with pytest.raises(UnsupportedDate, match=str(year)):
        conversion_factor(dt.date(year, 6, 1), qualifying_apm=True)


@pytest.mark.parametrize("year,value,status", [(2018, "2010", "unverified"), (2021, "2110", "unverified"),
                                               (2022, "2150", "official"), (2024, "2330", "official"),
                                               (2025, "2410", "unverified"), (2026, "2480", "official")])
def test_kx_threshold_by_year(year, value, status):
    """KX thresholds 2018-2026 with the reference's tags (association/secondary -> unverified)."""
    fig = kx_threshold(dt.date(year, 12, 31))
    assert (fig.value, fig.status) == (Decimal(value), status)


@pytest.mark.parametrize("dos", [dt.date(2017, 12, 31), dt.date(2027, 1, 1)])
def test_kx_threshold_outside_2018_2026_is_refused(dos):
    """Before 2018 (the caps) and after 2026 there is no threshold: UnsupportedDate naming the year."""
    with pytest.raises(UnsupportedDate, match=str(dos.year)):
        kx_threshold(dos)


def test_review_threshold_is_3000_from_2018_until_2028():
    """$3,000 (official) from 2018-01-01 to 2027-12-31; 2017 and 2028 (indexed by law) are refused."""
    assert review_threshold(dt.date(2018, 1, 1)) == review_threshold(dt.date(2027, 12, 31))
    assert (review_threshold(D2025).value, review_threshold(D2025).status) == (Decimal("3000"), "official")
    for outside in (dt.date(2017, 12, 31), dt.date(2028, 1, 1)):
        with pytest.raises(UnsupportedDate, match=str(outside.year)):
            review_threshold(outside)


def test_every_figure_has_a_value_a_source_and_a_status():
    """Each figures.json entry has a decimal value, a source and status official/unverified."""
    data = json.loads(FIGURES.read_text(encoding="utf-8"))
    entries = [e for v in data.values() if isinstance(v, list) for e in v]
    assert len(entries) >= 17
    for e in entries:
        Decimal(e["value"])
        assert e["source"] and e["status"] in ("official", "unverified")
        dt.date.fromisoformat(e["from"])


# --- releases by year; imports ------------------------------------------------

def test_a_year_without_rvus_is_refused_never_taken_from_another_year():
    """2027 with no imported PPRRVU: UnsupportedDate naming 2027, CMS's RVU27A.zip and `ptbilling data import`."""
    with pytest.raises(UnsupportedDate, match="2027; available: 2025-2026 — 2027 dates: import CMS's RVU27A.zip "
                       "with `ptbilling data import`"):
        price_lines([line("97110", dos=dt.date(2027, 1, 2))])


def test_a_year_before_the_shipped_ones_asks_for_its_last_release():
    """2024 (before the shipped years) names RVU24D, that year's October release."""
    with pytest.raises(UnsupportedDate, match="RVU24D.zip"):
        price_lines([line("97110", dos=dt.date(2024, 6, 1))])


def test_importing_a_2026_pprrvu_prices_2026_with_the_2026_factor(cms_dir, tmp_path, isolated_user_data):
    """A synthetic 2026 PPRRVU (CF 33.4009) imported: 97110 is 0.89 x 33.4009 = 29.73, and the CF is confirmed official."""
    release = import_synthetic_rvu(cms_dir, tmp_path, 2026, "33.4009")
    assert (release.effective_from, release.effective_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert release.path.parent == isolated_user_data and release.status == "official"
    assert "2026 National Physician Fee Schedule" in release.name
    [fee] = price_lines([line("97110", dos=dt.date(2026, 1, 2))])
    assert fee.amount == Decimal("29.73") and fee.data_status == "official"
    assert conversion_factor(dt.date(2026, 1, 2)).status == "official"
    assert amounts(line("97110", dos=D2025)) == [Decimal("28.79")]  # 2025 unchanged


def test_an_unverified_factor_that_an_official_file_states_is_reported_official(cms_dir, tmp_path, monkeypatch):
    """figures.json marking 2026's 33.4009 unverified: the official RVU26C file stating it makes it official."""
    figures = dict(fee_schedule._figures())
    figures["conversion_factor"] = tuple(
        (start, end, fee_schedule.Figure(fig.value, fig.source, "unverified") if start.year == 2026 else fig)
        for start, end, fig in figures["conversion_factor"])
    monkeypatch.setattr(fee_schedule, "_figures", lambda: figures)
    cf = conversion_factor(dt.date(2026, 1, 2))
    assert (cf.value, cf.status) == (Decimal("33.4009"), "official") and "the same factor is in RVU26C" in cf.source


def test_a_2026_file_stating_another_factor_does_not_override_figures_json(cms_dir, tmp_path):
    """A 2026 file whose CONV FACTOR differs: 2026 prices still use figures.json's official 33.4009."""
    import_synthetic_rvu(cms_dir, tmp_path, 2026, "33.0000")
    [fee] = price_lines([line("97110", dos=dt.date(2026, 1, 2))])
    assert fee.amount == Decimal("29.73") and fee.data_status == "official"
    assert "CF $33.4009 (2026)" in fee.why


def test_the_2024_factor_changes_on_9_march_within_one_release(cms_dir, tmp_path):
    """An imported 2024 file (CF 32.7442): 97110 is 29.14 on 2024-03-08 and 29.63 on 2024-03-09."""
    import_synthetic_rvu(cms_dir, tmp_path, 2024, "32.7442", name="PPRRVU24_JAN.csv")
    before = price_lines([line("97110", dos=dt.date(2024, 3, 8))])[0]
    after = price_lines([line("97110", dos=dt.date(2024, 3, 9))])[0]
    assert (before.amount, after.amount) == (Decimal("29.14"), Decimal("29.63"))  # 0.89 x 32.7442 / 33.2875


def test_a_year_outside_figures_json_takes_the_factor_of_its_own_release(cms_dir, tmp_path):
    """An imported 2023 file: the conversion factor is that file's CONV FACTOR, official, naming the release."""
    import_synthetic_rvu(cms_dir, tmp_path, 2023, "33.8872")
    cf = conversion_factor(dt.date(2023, 5, 1))
    assert (cf.value, cf.status) == (Decimal("33.8872"), "official") and "CONV FACTOR column of" in cf.source
    assert amounts(line("97110", dos=dt.date(2023, 5, 1))) == [Decimal("30.16")]  # 0.89 x 33.8872 = 30.1596


def test_mppr_before_april_2013_is_refused_not_guessed(cms_dir, tmp_path):
    """2013-03-31 has no 50% MPPR figure: two units raise; from 2013-04-01 the 50% applies."""
    import_synthetic_rvu(cms_dir, tmp_path, 2013, "34.0230")
    with pytest.raises(UnsupportedDate, match="MPPR.*2013"):
        price_lines([line("97110", 2, dos=dt.date(2013, 3, 31))])
    assert amounts(line("97110", 1, dos=dt.date(2013, 3, 31)))[0] is not None  # one unit: no MPPR needed
    [fee] = price_lines([line("97110", 2, dos=dt.date(2013, 4, 1))])
    assert fee.reduced_units == 1


def test_import_rvu_never_modifies_the_input_file(cms_dir, tmp_path):
    """The imported CMS file is byte-for-byte and time-stamp unchanged."""
    path = tmp_path / "PPRRVU2026_Jan.csv"
    path.write_text(pprrvu_text(cms_dir, 2026, "33.4009"), encoding="utf-8")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    import_rvu(path, force=FORCE)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_import_rvu_takes_the_year_from_the_file_name_when_the_title_has_none(cms_dir, tmp_path):
    """Without a title line the year comes from PPRRVU2026_Oct.csv."""
    path = tmp_path / "PPRRVU2026_Oct.csv"
    path.write_text(pprrvu_text(cms_dir).replace("2025 National Physician Fee Schedule", "Relative values"),
                    encoding="utf-8")
    assert import_rvu(path, force=FORCE).effective_from == dt.date(2026, 1, 1)


def test_import_rvu_refuses_a_year_that_contradicts_the_file(cms_dir, tmp_path):
    """Importing the 2025 file as 2026 is refused; a file without a year needs one given."""
    path = tmp_path / "PPRRVU2025_Oct.csv"
    path.write_text(pprrvu_text(cms_dir), encoding="utf-8")
    with pytest.raises(DataImportError, match="2025 file, not 2026"):
        import_rvu(path, 2026)
    anonymous = tmp_path / "relative_values.csv"
    anonymous.write_text(pprrvu_text(cms_dir).replace("2025 National Physician Fee Schedule", "RVUs"),
                         encoding="utf-8")
    with pytest.raises(DataImportError, match="give the year"):
        import_rvu(anonymous)
    assert import_rvu(anonymous, 2026, force=FORCE).effective_to == dt.date(2026, 12, 31)


def test_reimporting_a_year_replaces_the_earlier_import(cms_dir, tmp_path):
    """A later 2026 quarter replaces the earlier one, and prices follow at once (no stale cache)."""
    import_synthetic_rvu(cms_dir, tmp_path, 2026, "33.4009")
    assert amounts(line("97110", dos=dt.date(2026, 1, 2))) == [Decimal("29.73")]
    path = tmp_path / "PPRRVU2026_Apr.csv"
    path.write_text(pprrvu_text(cms_dir, 2026, "33.4009").replace("97110,,,A,,0.45", "97110,,,A,,0.55"),
                    encoding="utf-8")
    import_rvu(path)
    assert [r for r in datasets.releases() if r.kind == "rvu" and r.origin == "imported"] != []
    assert len([r for r in datasets.releases()
                if r.kind == "rvu" and r.effective_from.year == 2026 and r.origin == "imported"]) == 1
    assert amounts(line("97110", dos=dt.date(2026, 1, 2))) == [Decimal("33.07")]  # 0.99 x 33.4009


def test_import_gpci_adds_a_year_of_localities(cms_dir, tmp_path):
    """A 2026 GPCI file imported with its year: Alaska 2026 prices use it; the input is unchanged."""
    import_synthetic_rvu(cms_dir, tmp_path, 2026, "33.4009")
    path = tmp_path / "GPCI2026.csv"
    text = (cms_dir / "GPCI2025.csv").read_text(encoding="utf-8").replace("2025", "2026")
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    release = import_gpci(path, 2026, force=FORCE)
    assert (release.kind, release.effective_from, release.status) == ("gpci", dt.date(2026, 1, 1), "official")
    assert f"{len(gpci_file.parse_gpci_file(text))} localities" in release.name
    assert gpci("02102-01", dt.date(2026, 3, 1)) == (Decimal("1.5"), Decimal("1.081"), Decimal("0.592"))
    assert amounts(line("97110", dos=dt.date(2026, 3, 1)), locality="02102-01") == [Decimal("38.27")]
    assert path.read_bytes() == before


def test_import_gpci_refuses_a_year_that_contradicts_the_file(cms_dir):
    """GPCI2025.csv imported as 2026 is refused, naming both years."""
    with pytest.raises(DataImportError, match="2025 GPCI file, not 2026"):
        import_gpci(cms_dir / "GPCI2025.csv", 2026)


def test_the_rvu_file_is_read_once_for_many_prices(monkeypatch):
    """Pricing again on the same release does not re-read its file (PT_FEE's hot path)."""
    fee_schedule._rvu_table_cached.cache_clear()
    reads = []
    real = rvu_file.read_release_csv
    monkeypatch.setattr(rvu_file, "read_release_csv", lambda p: reads.append(p) or real(p))
    for _ in range(5):
        price_lines([line("97110"), line("97530")])
    assert len(reads) == 1


# --- KX and targeted review (therapy-billing-rules.md section 6) -------------

def kx(dos, discipline, allowed):
    return KxLine(dos, discipline, Decimal(allowed))


def flags(marks):
    return [(m.needs_kx, m.past_review) for m in marks]


def test_reaching_the_threshold_exactly_needs_no_kx_one_cent_past_does():
    """2025 ($2,410): 1205 + 1205 is at the threshold (no KX); the next 0.01 line needs KX."""
    d1, d2, d3 = dt.date(2025, 2, 1), dt.date(2025, 2, 8), dt.date(2025, 2, 15)
    marks = kx_marks([kx(d1, "PT", "1205"), kx(d2, "PT", "1205"), kx(d3, "PT", "0.01")])
    assert [m.needs_kx for m in marks] == [False, False, True]
    assert marks[1].year_total == Decimal("2410") and marks[2].year_total == Decimal("2410.01")


def test_the_line_that_passes_the_threshold_and_every_later_line_need_kx():
    """1205 + 1205.01 passes with the second line; a later zero-amount line needs KX too."""
    d = [dt.date(2025, 3, i) for i in (1, 2, 3)]
    marks = kx_marks([kx(d[0], "PT", "1205"), kx(d[1], "PT", "1205.01"), kx(d[2], "PT", "0")])
    assert [m.needs_kx for m in marks] == [False, True, True]


def test_prior_amounts_from_other_providers_count():
    """Prior 2400 + 10 reaches 2410 (no KX); prior 2400 + 10.01 passes (KX)."""
    d = dt.date(2025, 5, 1)
    assert kx_marks([kx(d, "PT", "10")], {(2025, "PT+SLP"): Decimal("2400")})[0].needs_kx is False
    assert kx_marks([kx(d, "PT", "10.01")], {(2025, "PT+SLP"): Decimal("2400")})[0].needs_kx is True


def test_a_prior_amount_already_past_the_threshold_marks_the_first_line():
    """Prior exactly 2410 with a 0 line: no KX; prior 2410.01: KX from the first line."""
    d = dt.date(2025, 5, 1)
    assert kx_marks([kx(d, "OT", "0")], {(2025, "OT"): "2410"})[0].needs_kx is False
    assert kx_marks([kx(d, "OT", "0")], {(2025, "OT"): "2410.01"})[0].needs_kx is True


def test_pt_and_slp_share_a_bucket_and_ot_has_its_own():
    """PT 2000 + SLP 500 passes the PT+SLP bucket; OT 2000 the same year does not."""
    d = dt.date(2025, 4, 1)
    marks = kx_marks([kx(d, "PT", "2000"), kx(d, "OT", "2000"), kx(d, "SLP", "500")])
    assert [(m.bucket, m.needs_kx) for m in marks] == [("PT+SLP", False), ("OT", False), ("PT+SLP", True)]


def test_the_buckets_start_again_each_calendar_year():
    """Past the 2025 threshold on 2025-12-31; a 2026-01-02 line starts from 0 (2026: $2,480)."""
    marks = kx_marks([kx(dt.date(2025, 12, 31), "PT", "2500"), kx(dt.date(2026, 1, 2), "PT", "100")])
    assert [m.needs_kx for m in marks] == [True, False]
    assert marks[1].threshold.value == Decimal("2480") and marks[1].year_total == Decimal("100")


def test_the_review_threshold_is_passed_one_cent_after_3000():
    """2025: a total of exactly 3000 is not past review; 3000.01 is (and needs KX as well)."""
    d = dt.date(2025, 9, 1)
    assert flags(kx_marks([kx(d, "OT", "3000")])) == [(True, False)]
    assert flags(kx_marks([kx(d, "OT", "3000.01")])) == [(True, True)]
    assert flags(kx_marks([kx(d, "OT", "0.01")], {(2025, "OT"): "2999.99"})) == [(True, False)]
    assert flags(kx_marks([kx(d, "OT", "0.02")], {(2025, "OT"): "2999.99"})) == [(True, True)]


def test_lines_are_added_in_date_order_and_returned_in_input_order():
    """A later line listed first does not take the earlier line's place."""
    late, early = dt.date(2025, 8, 1), dt.date(2025, 7, 1)
    marks = kx_marks([kx(late, "PT", "100"), kx(early, "PT", "2400")])
    assert [m.needs_kx for m in marks] == [True, False]
    assert [m.year_total for m in marks] == [Decimal("2500"), Decimal("2400")]


def test_float_amounts_from_excel_are_exact():
    """28.79 as a float is the decimal 28.79, so crossing checks are exact."""
    marks = kx_marks([KxLine(dt.date(2025, 1, 2), "PT", 2381.21), KxLine(dt.date(2025, 1, 3), "PT", 28.79)])
    assert marks[1].year_total == Decimal("2410.00") and not marks[1].needs_kx


@pytest.mark.parametrize("bad", [KxLine(dt.date(2025, 1, 2), "PT", Decimal("-1")),
                                 KxLine(dt.date(2025, 1, 2), "CHIRO", Decimal("1")),
                                 KxLine(dt.date(2025, 1, 2), "PT", "abc")])
def test_negative_amounts_and_unknown_disciplines_are_refused(bad):
    """A negative or non-numeric amount, or a discipline other than PT/SLP/OT, raises BadValue."""
    with pytest.raises(BadValue):
        kx_marks([bad])


def test_kx_before_2018_is_refused_with_the_year():
    """A 2017 line has no KX threshold: UnsupportedDate naming 2017."""
    with pytest.raises(UnsupportedDate, match="2017"):
        kx_marks([kx(dt.date(2017, 6, 1), "PT", "1")])
