import random
from datetime import date, timedelta
from decimal import Decimal

from chalicelib.core.dates import local_today, on_day, shift_month
from chalicelib.insights.bills import run_bill_reminders
from chalicelib.insights.recurring import Occurrence, days_off, detect, next_due, usual_day
from tests.factories import make_account, make_family, make_transaction


def occ(day, amount):
    return Occurrence(day, Decimal(amount))


def test_a_monthly_series_with_jittered_days_and_amounts_is_found():
    rng = random.Random(7)
    days = [date(2025, m, 15) + timedelta(days=rng.randint(-3, 3)) for m in range(1, 7)]
    amounts = [Decimal("49.99") * (1 + Decimal(rng.randint(-4, 4)) / 100) for _ in days]
    found = detect([occ(d, a.quantize(Decimal("0.01"))) for d, a in zip(days, amounts, strict=True)])
    assert found is not None and len(found.occurrences) == 6
    assert 12 <= found.usual_day <= 18
    assert found.next_due == date(2025, 7, found.usual_day)
    assert abs(found.amount - Decimal("49.99")) < Decimal("2.50")


def test_jittered_series_on_every_day_of_the_month_are_found_whole():
    for seed in range(300):
        rng = random.Random(seed)
        day, n = rng.randint(1, 31), rng.randint(3, 8)
        days = [on_day(date(2025, m, 1), day) + timedelta(days=rng.randint(-3, 3)) for m in range(1, n + 1)]
        amounts = [(Decimal("49.99") * (1 + Decimal(rng.randint(-4, 4)) / 100)).quantize(Decimal("0.01")) for _ in days]
        found = detect([occ(d, a) for d, a in zip(days, amounts, strict=True)])
        assert found is not None and len(found.occurrences) == n, (seed, days)
        assert max(days_off(d, found.usual_day) for d in days) <= 3


def test_two_occurrences_amounts_apart_or_irregular_dates_are_not_a_series():
    assert detect([occ(date(2025, 1, 5), "10"), occ(date(2025, 2, 5), "10")]) is None
    assert detect([occ(date(2025, 1, 5), "10"), occ(date(2025, 2, 5), "15"), occ(date(2025, 3, 5), "10")]) is None
    assert detect([occ(date(2025, 1, 5), "10"), occ(date(2025, 1, 19), "10"), occ(date(2025, 2, 2), "10")]) is None
    assert detect([occ(date(2025, 1, 5), "10"), occ(date(2025, 2, 14), "10"), occ(date(2025, 3, 5), "10")]) is None


def test_a_36_day_rhythm_drifts_through_the_month_and_is_not_monthly():
    days = [date(2025, 1, 1) + timedelta(days=36 * i) for i in range(5)]
    assert detect([occ(d, "20") for d in days]) is None


def test_a_one_off_purchase_after_the_last_bill_does_not_hide_the_series():
    series = [occ(date(2025, m, 3), "12.00") for m in (1, 2, 3, 4)] + [occ(date(2025, 4, 20), "250.00")]
    found = detect(series)
    assert found is not None and found.last.day == date(2025, 4, 3) and found.next_due == date(2025, 5, 3)


def test_month_end_bills_keep_their_day_clamped_to_the_months_length():
    found = detect([occ(date(2024, 1, 31), "9"), occ(date(2024, 2, 29), "9"), occ(date(2024, 3, 31), "9")])
    assert found is not None and found.usual_day == 31 and found.next_due == date(2024, 4, 30)
    assert next_due(date(2025, 1, 31), 31) == date(2025, 2, 28)
    assert next_due(date(2024, 1, 30), 30) == date(2024, 2, 29)
    assert next_due(date(2024, 12, 15), 15) == date(2025, 1, 15)
    assert next_due(date(2025, 3, 29), 1) == date(2025, 5, 1)  # the April bill was paid early
    assert next_due(date(2025, 3, 3), 1) == date(2025, 4, 1)  # the March bill was paid late
    assert usual_day([date(2024, 1, 14), date(2024, 2, 16), date(2024, 3, 15)]) == 15
    assert usual_day([date(2024, 12, 29), date(2025, 2, 3), date(2025, 3, 1)]) == 1


def _bill(conn, user, account, months, *, day=10, amount="-15.99", merchant="NETFLIX.COM"):
    for i, m in enumerate(months):
        make_transaction(
            conn, user["id"], account, amount, day=date(m[0], m[1], day), merchant=f"{merchant} {1000 + i}"
        )


def test_get_recurring_lists_the_series_of_what_i_can_read(api, owner, conn, make_user):
    # Dated from today: the listing hides series more than a week past due, so fixed dates go stale.
    today = local_today(owner.get("timezone", "UTC"))  # the owner's today, as the route takes it
    day = min(today.day, 28)
    months = [(m.year, m.month) for m in (shift_month(today, -k) for k in (3, 2, 1))]
    _bill(conn, owner, owner["account"], months, day=day)
    _bill(conn, owner, owner["account"], months[-1:], merchant="One Off Shop")
    stranger = make_user()
    status, body = api.get("/recurring", stranger)
    assert status == 200 and body == {"items": []}
    status, body = api.get("/recurring", owner)
    assert status == 200
    (item,) = body["items"]
    assert item["amount"] == "-15.99" and item["occurrences"] == 3 and item["usual_day"] == day
    assert item["last_date"] == date(*months[-1], day).isoformat()
    assert item["next_due_date"] == date(today.year, today.month, day).isoformat()
    assert item["merchant"].startswith("NETFLIX.COM")


def test_reminders_go_out_0_to_3_days_ahead_once_per_due_date_to_everyone_who_reads_the_account(make_user, conn):
    owner, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "viewer"})
    shared = make_account(conn, owner["id"], family_id=family)
    _bill(conn, owner, shared, [(2026, 1), (2026, 2), (2026, 3)], day=10, amount="-1200.00", merchant="Rent ACME")

    assert run_bill_reminders(today=date(2026, 4, 6)).reminders_created == 0  # 4 days ahead
    report = run_bill_reminders(today=date(2026, 4, 7), dry_run=True)
    assert report.due_soon == 2 and report.reminders_created == 0
    assert run_bill_reminders(today=date(2026, 4, 7)).reminders_created == 2
    assert run_bill_reminders(today=date(2026, 4, 10)).reminders_created == 0  # same due date
    assert run_bill_reminders(today=date(2026, 4, 11)).due_soon == 0  # past due
    rows = conn.execute(
        "SELECT user_id, title, message, data FROM notifications WHERE type = 'bill_reminder'"
    ).fetchall()
    assert {r["user_id"] for r in rows} == {owner["id"], member["id"]}
    assert "1200.00" in rows[0]["message"] and "2026-04-10" in rows[0]["message"]
    assert rows[0]["data"]["next_due_date"] == "2026-04-10"
