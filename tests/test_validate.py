"""PT_VALIDATE's rules: each fires on a bad row and stays silent on a clean one."""
from __future__ import annotations

import datetime as dt

import pytest

from ptbilling.logs.cells import check_table
from ptbilling.logs.columns import MissingColumns, map_headers

HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
D = dt.datetime(2025, 3, 3)


def row(code, minutes=None, units=1, mods="GP", provider="PT", payer="Medicare", patient="A", date=D, **extra):
    return {"Patient": patient, "Date": date, "Payer": payer, "Provider": provider, "Code": code,
            "Modifiers": mods, "Minutes": minutes, "Units": units, **extra}


def check(*rows, payer=None, method=None):
    header = list(HEADER)
    for r in rows:
        for k in r:
            if k not in header:
                header.append(k)
    table = [header] + [[r.get(h) for h in header] for r in rows]
    return check_table(table, payer, method)[1:]


def rules_in(text):
    return {part.split(":")[0].split(" ")[1] for part in text.split("; ")} if text not in ("OK", "") else set()


def test_clean_visit_is_ok():
    """A correct Medicare visit (manual example 1) gets OK on every line."""
    assert check(row("97112", 24, 2), row("97110", 23, 1)) == ["OK", "OK"]


def test_header_row_gets_check_and_blank_rows_stay_blank():
    """The result lines up with the table: 'Check' for the header, '' for a blank row."""
    table = [HEADER, ["A", D, "Medicare", "PT", "97110", "GP", 30, 2], [None] * 8]
    assert check_table(table) == ["Check", "OK", ""]


def test_units_over_message_matches_the_issue_example():
    """30 timed min billed as 3 units: ERROR UNITS-OVER with the fix."""
    assert check(row("97110", 30, 3)) == ["ERROR UNITS-OVER: 30 timed min allow 2 units, 3 billed — bill 2"]


def test_units_under_is_a_warning():
    """Billing fewer units than the rule gives is WARN UNITS-UNDER."""
    assert check(row("97110", 30, 1))[0].startswith("WARN UNITS-UNDER")


def test_units_follow_the_8_minute_rule_across_codes():
    """97112 24 + 97110 23 billed 2/2: only 97110 is over (1 by the rule)."""
    got = check(row("97112", 24, 2), row("97110", 23, 2))
    assert got[0] == "OK" and "UNITS-OVER" in got[1] and "bill 1" in got[1]


def test_commercial_payer_uses_the_per_code_method():
    """Aetna, 97110 20 + 97140 18 billed 1/1: correct by AMA (it would be 2/1 by CMS)."""
    assert check(row("97110", 20, 1, payer="Aetna"), row("97140", 18, 1, payer="Aetna")) == ["OK", "OK"]
    got = check(row("97110", 20, 1, payer="Aetna"), row("97140", 18, 1, payer="Aetna"), method="CMS")
    assert "UNITS-UNDER" in got[0]


def test_medicare_always_uses_cms_even_if_method_says_ama():
    """Traditional Medicare is CMS regardless of the method argument; Medicare Advantage follows it."""
    assert "UNITS-UNDER" in check(row("97110", 20, 1), row("97140", 18, 1), method="AMA")[0]
    ma = dict(payer="Medicare Advantage")
    assert check(row("97110", 20, 1, **ma), row("97140", 18, 1, **ma), method="AMA") == ["OK", "OK"]


def test_untimed_code_with_two_units():
    """G0283 billed with 2 units: UNITS-UNTIMED; with 1: clean."""
    assert "UNITS-UNTIMED" in check(row("G0283", 15, 2))[0]
    assert check(row("G0283", 15, 1)) == ["OK"]


def test_timed_code_under_8_minutes_alone():
    """97110 for 7 minutes alone, billed 1 unit: UNITS-UNDER-8; at 8 minutes: clean."""
    assert "UNITS-UNDER-8" in check(row("97110", 7, 1))[0]
    assert check(row("97110", 8, 1)) == ["OK"]


def test_same_timed_code_twice_in_a_visit_is_reported_once():
    """97110 on two lines: the repeat line gets UNITS-DUPLICATE, the first carries the units."""
    got = check(row("97110", 12, 2), row("97110", 11, 0))
    assert got[0] == "OK" and "UNITS-DUPLICATE" in got[1]


def test_duplicate_before_the_2021_single_line_rule_is_only_a_warning():
    """On 2021-04-18 the duplicate is WARN; from 2021-04-19 it is ERROR."""
    before = check(row("97110", 12, 2, date=dt.datetime(2021, 4, 18)), row("97110", 11, 0, date=dt.datetime(2021, 4, 18)))
    after = check(row("97110", 12, 2, date=dt.datetime(2021, 4, 19)), row("97110", 11, 0, date=dt.datetime(2021, 4, 19)))
    assert before[1].startswith("WARN UNITS-DUPLICATE") and after[1].startswith("ERROR UNITS-DUPLICATE")


def test_cq_and_plain_lines_of_one_code_are_not_duplicates():
    """97110-GP-CQ and 97110-GP on two lines is CMS's own billing pattern."""
    got = check(row("97110", 23, 1, mods="GP CQ", provider="PTA"), row("97110", 13, 1))
    assert "UNITS-DUPLICATE" not in " ".join(got)


def test_minutes_missing_on_a_timed_code():
    """A timed code with blank minutes: MINUTES-MISSING."""
    assert "MINUTES-MISSING" in check(row("97110", None, 1))[0]


def test_group_97150_with_minutes_and_units():
    """97150 with 45 minutes and 3 units: GROUP-UNITS; 1 unit: clean."""
    assert "GROUP-UNITS" in check(row("97150", 45, 3))[0]
    assert check(row("97150", 45, 1)) == ["OK"]


@pytest.mark.parametrize("code,rule", [("97010", "CODE-BUNDLED"), ("97014", "CODE-INVALID"),
                                       ("97169", "CODE-NONCOVERED"), ("97026", "CODE-RESTRICTED"),
                                       ("97799", "CODE-UNLISTED"), ("97111", "CODE-UNKNOWN")])
def test_code_status_rules_fire_for_medicare(code, rule):
    """Status B/I/N/R, unlisted and unknown codes are flagged on a Medicare line."""
    assert rule in check(row(code, 15, 1))[0]


def test_97014_message_says_bill_g0283():
    """The fix for 97014 names G0283."""
    assert "bill G0283 instead" in check(row("97014", 15, 1))[0]


def test_code_status_is_silent_for_commercial_payers():
    """97010 to a commercial payer is not a Medicare status problem."""
    assert "CODE-BUNDLED" not in check(row("97010", 10, 1, payer="Aetna"))[0]


def test_therapy_modifier_missing_multiple_and_mismatched():
    """No GP: MOD-THERAPY-MISSING; GP+GO: MULTIPLE; OT evaluation with GP: MOD-DISCIPLINE."""
    assert "MOD-THERAPY-MISSING" in check(row("97110", 30, 2, mods=""))[0]
    assert "MOD-THERAPY-MULTIPLE" in check(row("97110", 30, 2, mods="GP GO"))[0]
    assert "MOD-DISCIPLINE" in check(row("97165", None, 1, mods="GP", provider="OT"))[0]
    assert check(row("97165", None, 1, mods="GO", provider="OT")) == ["OK"]


def test_modifier_must_fit_the_provider():
    """A PTA line with GO, or an OT with GP on an any-discipline code, is MOD-DISCIPLINE."""
    assert "MOD-DISCIPLINE" in check(row("97530", 30, 2, mods="GO CQ", provider="PTA"))[0]
    assert "MOD-DISCIPLINE" in check(row("97530", 30, 2, mods="GP", provider="OT"))[0]


def test_therapy_modifier_not_required_by_commercial_payers():
    """A commercial line without GP is not flagged."""
    assert check(row("97110", 30, 2, mods="", payer="Aetna")) == ["OK"]


def test_assistant_line_needs_cq_or_co():
    """A PTA line without CQ: ASSIST-MISSING; an OTA line says CO."""
    assert "add CQ" in check(row("97110", 30, 2, provider="PTA"))[0]
    assert "add CO" in check(row("97530", 30, 2, mods="GO", provider="OTA"))[0]
    assert check(row("97110", 30, 2, mods="GP CQ", provider="PTA")) == ["OK"]


def test_cq_with_go_and_co_with_gp():
    """CQ pairs with GP and CO with GO."""
    assert "ASSIST-MISMATCH" in check(row("97530", 30, 2, mods="GO CQ", provider="OTA"))[0]
    assert "ASSIST-MISMATCH" in check(row("97110", 30, 2, mods="GP CO", provider="PTA"))[0]


def test_cq_on_a_line_the_therapist_furnished_wholly():
    """PT line with CQ and 0 assistant minutes: ERROR; without the column: WARN."""
    assert check(row("97110", 30, 2, mods="GP CQ", **{"Assistant Minutes": 0}))[0].startswith(
        "ERROR ASSIST-NOT-ASSISTANT")
    assert check(row("97110", 30, 2, mods="GP CQ"))[0].startswith("WARN ASSIST-NOT-ASSISTANT")


def test_cq_rules_start_in_2020():
    """A PTA line without CQ on 2019-12-31 is not flagged; on 2020-01-01 it is."""
    assert "ASSIST" not in check(row("97110", 30, 2, provider="PTA", date=dt.datetime(2019, 12, 31)))[0]
    assert "ASSIST-MISSING" in check(row("97110", 30, 2, provider="PTA", date=dt.datetime(2020, 1, 1)))[0]


def test_two_evaluations_and_evaluation_with_reevaluation():
    """Two PT evaluations: EVAL-MULTIPLE; PT eval + PT re-eval: EVAL-AND-REEVAL; PT + OT evals: clean."""
    assert "EVAL-MULTIPLE" in check(row("97161", None, 1), row("97162", None, 1))[1]
    assert "EVAL-AND-REEVAL" in check(row("97161", None, 1), row("97164", None, 1))[1]
    assert check(row("97161", None, 1), row("97165", None, 1, mods="GO", provider="OT")) == ["OK", "OK"]


def test_chiropractor_billing_therapy_to_medicare():
    """DC with 97110 to Medicare: PROVIDER-CHIRO; DC with 98940: clean; DC to a commercial payer: clean."""
    assert "PROVIDER-CHIRO" in check(row("97110", 30, 2, provider="DC"))[0]
    assert check(row("98940", None, 1, mods="", provider="DC")) == ["OK"]
    assert check(row("97110", 30, 2, provider="DC", payer="Aetna", mods="")) == ["OK"]


def test_massage_therapist_and_athletic_trainer():
    """LMT or ATC as provider: ERROR for Medicare, WARN for others."""
    assert check(row("97124", 30, 2, provider="LMT"))[0].startswith("ERROR PROVIDER-UNQUALIFIED")
    assert check(row("97110", 30, 2, provider="ATC", payer="Aetna", mods=""))[0].startswith("WARN PROVIDER-UNQUALIFIED")


def test_unknown_provider_is_a_warning_listing_the_choices():
    """An unrecognised credential names itself and the valid ones."""
    got = check(row("97110", 30, 2, provider="XYZ"))[0]
    assert "PROVIDER-UNKNOWN" in got and "'XYZ'" in got and "PTA" in got


def test_bad_cells_give_an_input_finding_on_that_row_only():
    """A bad date, minutes or units gives ERROR INPUT naming the cell; the other rows still check."""
    got = check(row("97110", 30, 2, date="31/31/2025"), row("97110", "ten", 2, patient="B"),
                row("97110", 30, -1, patient="C"), row("97110", 30, 2, patient="D"))
    assert got[0].startswith("ERROR INPUT: Date cell") and "Minutes cell" in got[1] and "Units cell" in got[2]
    assert got[3] == "OK"


def test_date_before_2017_names_the_year():
    """A 2016 date of service gets a message naming 2016."""
    assert "2016" in check(row("97110", 30, 2, date=dt.datetime(2016, 5, 1)))[0]


def test_excel_serial_dates_and_text_dates_are_read():
    """45719 (2025-03-03 as an Excel serial) and '3/3/2025' are the same visit."""
    got = check(row("97112", 24, 2, date=45719.0), row("97110", 23, 1, date="3/3/2025"))
    assert got == ["OK", "OK"]


def test_headers_in_any_order_case_and_spacing():
    """Columns may come in any order with any case, spaces or underscores; unknown columns are ignored."""
    table = [["units", "MINUTES", "code", "Notes", "modifiers", "provider", "date_of_service", "PAYER", "patient"],
             [2, 30, "97110", "x", "GP", "PT", D, "Medicare", "A"]]
    assert check_table(table) == ["Check", "OK"]


def test_missing_column_is_one_clear_message():
    """A log without Units names the missing column and the headers seen."""
    with pytest.raises(MissingColumns, match="missing column Units; headers seen"):
        map_headers([h for h in HEADER if h != "Units"])


def test_payer_argument_replaces_a_missing_payer_column():
    """With no Payer column the payer argument applies to every row."""
    table = [[h for h in HEADER if h != "Payer"], ["A", D, "PT", "97110", "", 30, 2]]
    assert "MOD-THERAPY-MISSING" in check_table(table, "Medicare")[1]
    with pytest.raises(MissingColumns, match="Payer"):
        check_table(table)


# --- KX threshold and targeted review ---------------------------------------------------------

def test_kx_crossing_point_without_prior_amounts():
    """Daily 97530 x4 visits: the line that takes PT+SLP past $2,410 and every later one need KX."""
    from decimal import Decimal

    from ptbilling.rules.fee_schedule import FeeLine, price_lines

    per_visit = price_lines([FeeLine("97530", 4, dt.date(2025, 1, 2))])[0].amount
    crossing = next(n for n in range(1, 40) if per_visit * n > Decimal("2410"))
    rows = [row("97530", 60, 4, date=dt.datetime(2025, 1, 1) + dt.timedelta(days=d)) for d in range(crossing + 2)]
    got = check(*rows)
    flagged = [i for i, text in enumerate(got) if "KX-MISSING" in text]
    assert flagged == list(range(crossing - 1, crossing + 2))


def test_kx_crossing_point_with_prior_amounts_on_both_sides():
    """Prior $2,381.21 + 97110 $28.79 = $2,410.00 exactly is not past; one cent more is."""
    at = check(row("97110", 15, 1, **{"Prior Allowed": 2381.21}))
    past = check(row("97110", 15, 1, **{"Prior Allowed": 2381.22}))
    assert at == ["OK"] and "KX-MISSING" in past[0] and "$2,410.01" in past[0]


def test_kx_present_is_clean_and_ot_has_its_own_bucket():
    """With KX the line is clean; an OT line is not pushed over by PT amounts."""
    assert check(row("97110", 15, 1, mods="GP KX", **{"Prior Allowed": 2400})) == ["OK"]
    got = check(row("97110", 15, 1, **{"Prior Allowed": 2400}),
                row("97530", 15, 1, mods="GO", provider="OT", patient="A", date=dt.datetime(2025, 3, 4)))
    assert "KX-MISSING" in got[0] and got[1] == "OK"


def test_targeted_review_warning_past_3000():
    """Past $3,000 in a bucket adds WARN KX-REVIEW (with KX present, no error)."""
    assert check(row("97110", 15, 1, mods="GP KX", **{"Prior Allowed": 2990}))[0].startswith("WARN KX-REVIEW")
    assert check(row("97110", 15, 1, mods="GP KX", **{"Prior Allowed": 2900})) == ["OK"]


def test_kx_is_not_applied_to_commercial_or_medicare_advantage():
    """Only traditional Medicare lines count toward the KX threshold."""
    assert check(row("97110", 15, 1, payer="Medicare Advantage", **{"Prior Allowed": 2400})) == ["OK"]
    assert check(row("97110", 15, 1, payer="Aetna", mods="", **{"Prior Allowed": 2400})) == ["OK"]


def test_kx_unchecked_when_the_year_has_no_fee_schedule():
    """A 2027 Medicare line without 2027 RVUs installed says the KX check could not run, and what to import."""
    got = check(row("97110", 15, 1, date=dt.datetime(2027, 1, 5)))
    assert got[0].startswith("WARN KX-UNCHECKED") and "RVU27A.zip with `ptbilling data import`" in got[0]


def test_kx_shortcut_for_patients_far_under_the_threshold_changes_no_finding():
    """Skipping exact pricing for patients who cannot reach KX gives the same findings as pricing all."""
    import random

    from ptbilling.rules import datasets
    from ptbilling.rules.claim_lines import ClaimLine
    from ptbilling.rules.kx_modifier import kx_findings

    rnd = random.Random(11)
    lines = []
    for i in range(600):
        lines.append(ClaimLine(
            index=i, patient=f"P{rnd.randint(1, 12)}", dos=dt.date(2025, rnd.randint(1, 12), rnd.randint(1, 28)),
            payer="Medicare", provider="PT", code=rnd.choice(["97110", "97530", "97140", "97161", "97010"]),
            modifiers=tuple(rnd.sample(["GP", "KX", "CQ"], rnd.randint(1, 2))) if rnd.random() < .9 else ("GO",),
            minutes=30, units=rnd.randint(0, 4), prior_allowed=rnd.choice([None, None, 500.0, 2300.0])))
    with datasets.pinned():
        fast = sorted(map(str, kx_findings(lines)))
        exact = sorted(map(str, kx_findings(lines, totals={})))
    assert fast == exact and any("KX-MISSING" in f for f in exact)


def test_blank_date_says_blank():
    """A row with every cell but the date gets 'Date cell: blank', not a type name."""
    assert check(row("97110", 30, 2, date=None))[0] == "ERROR INPUT: Date cell: blank — correct it"


def _random_log(seed: int, n: int = 3000, narrow: bool = False):
    """Lines of every kind the rules look at: all catalog codes, credentials, modifier mixes,
    payers, dates across the CQ/CO and single-line boundaries, with and without assistant minutes."""
    import random

    from ptbilling.rules.claim_lines import PROVIDERS, ClaimLine
    from ptbilling.rules.code_catalog import catalog_for

    rnd = random.Random(seed)
    codes = sorted(c.code for c in catalog_for(None)) + ["97110"] * 20 + ["97140"] * 10
    providers = sorted(PROVIDERS) + ["", "XYZ"]
    if narrow:  # few kinds of line, so that lines differing in one field often share the rest
        codes, providers = ["97110", "97140", "97010", "97012", "97150", "97161", "92507"], ["PT", "PTA", "OT", "DC"]
    payers = ["Medicare", "Medicare Advantage", "Aetna", "BCBS / Medicare secondary"]
    mods = ["GP", "GO", "GN", "CQ", "CO", "59", "XU", "KX"]
    days = [dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2021, 4, 18), dt.date(2021, 4, 19),
            dt.date(2025, 3, 3), dt.date(2025, 7, 1), dt.date(2026, 1, 2)]
    with_asst = seed % 2 == 0
    lines = []
    for i in range(n):
        lines.append(ClaimLine(
            i, f"P{rnd.randint(1, 40)}", rnd.choice(days), rnd.choice(payers), rnd.choice(providers),
            rnd.choice(codes), tuple(rnd.sample(mods, rnd.choice([0, 1, 1, 1, 2, 2, 3]))),
            rnd.choice([None, 0, 5, 7, 8, 15, 22, 23, 38, 60]), rnd.choice([None, 0, 1, 1, 2, 3, 5]),
            rnd.choice([None, 0, 1, 2, 3, 10]) if with_asst else None,
            rnd.choice([None, None, 2500.0]), with_asst))
    return lines


@pytest.mark.parametrize("seed, narrow", [(1, False), (2, False), (3, True), (4, True)])
def test_memos_give_what_calling_every_rule_on_every_line_gives(seed, narrow):
    """The findings memo (equal facts, equal findings) and the visit screens (PTP, evaluations, CQ/CO
    split) change nothing on varied random logs: the oracle calls every rule on every line and visit
    (tests/oracle/validate.py; tests/test_equivalence_visits.py has many more logs)."""
    from oracle import validate as oracle
    from ptbilling.rules import validate

    lines = _random_log(seed, narrow=narrow)
    memo = [[str(f) for f in fs] for fs in validate.validate_lines(lines)]
    direct = [[str(f) for f in fs] for fs in oracle.validate_lines(lines)]
    assert memo == direct
    assert sum(map(len, direct)) > len(lines) // 2  # the log does exercise the rules
    assert any(" NCCI-PTP:" in f for fs in direct for f in fs)
