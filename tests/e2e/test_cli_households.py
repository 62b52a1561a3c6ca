"""``desk household link|unlink|wallet``, ``desk patient merge`` and ``desk patient show``
(issue 6) through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Desk


@pytest.fixture
def family(desk: Desk) -> dict[str, int]:
    desk.ok("init")
    desk.ok("practitioner", "add", "--name", "Ann Lee")
    desk.ok("service", "add", "--name", "Acupuncture 30", "--minutes", "30", "--price", "65",
            "--token-kind", "Acupuncture")
    desk.ok("package", "add", "--name", "Five", "--token-kind", "Acupuncture", "--tokens", "5",
            "--price", "300", "--expires-days", "365")
    ids = {name: desk.ok("patient", "add", "--name", name)["id"]
           for name in ("Mia Adams", "Kai Adams", "Mia Adams (dup)")}
    desk.ok("sell", "--patient", str(ids["Mia Adams"]), "--package", "Five", "--pay", "card:300")
    desk.ok("adjust", "--patient", str(ids["Kai Adams"]), "--credit", "20", "--reason", "gift")
    return ids


def balance(desk: Desk, pid: int) -> tuple[str, dict[str, int]]:
    found = desk.ok("balance", "--patient", str(pid))
    return found["credit"], found["tokens"]


def test_link_with_a_shared_wallet(desk: Desk, family: dict[str, int]) -> None:
    mia, kai = family["Mia Adams"], family["Kai Adams"]
    before = desk.table_rows()
    refused = desk.fails(3, "household", "link", "--patient", str(kai), "--with", str(mia),
                         "--shared-wallet")
    assert "--move-balance" in refused.err
    assert desk.table_rows() == before
    out = desk.ok("household", "link", "--patient", str(kai), "--with", str(mia),
                  "--shared-wallet", "--move-balance", "--name", "The Adamses")
    assert out["household"]["name"] == "The Adamses"
    assert out["household"]["shared_wallet"] is True
    assert sorted(m["id"] for m in out["household"]["members"]) == sorted([mia, kai])
    assert len(out["txn_ids"]) == 1
    assert balance(desk, mia) == balance(desk, kai) == ("20.00", {"Acupuncture": 5})
    shown: Any = desk.ok("patient", "show", str(kai))
    assert shown["household"]["id"] == out["household"]["id"]
    assert shown["balance"]["credit"] == "20.00"
    assert [(lot["remaining"], lot["unit_value"], lot["granted_by"]) for lot in shown["lots"]] \
        == [(5, "60.00", "sale")]          # when and how they were first bought
    left = desk.ok("household", "unlink", "--patient", str(kai))
    assert [m["id"] for m in left["left"]["members"]] == [mia]
    assert balance(desk, kai) == ("0.00", {})
    assert desk.ok("db", "verify")["ok"] is True


def test_stop_sharing_needs_a_receiver(desk: Desk, family: dict[str, int]) -> None:
    mia, kai = family["Mia Adams"], family["Kai Adams"]
    hid = desk.ok("household", "link", "--patient", str(kai), "--with", str(mia),
                  "--shared-wallet", "--move-balance")["household"]["id"]
    desk.fails(3, "household", "wallet", "--household", str(hid), "--separate")
    desk.fails(2, "household", "wallet", "--household", str(hid), "--separate",
               "--move-to", str(family["Mia Adams (dup)"]))
    desk.ok("household", "wallet", "--household", str(hid), "--separate", "--move-to", str(kai))
    assert balance(desk, kai) == ("20.00", {"Acupuncture": 5})
    assert balance(desk, mia) == ("0.00", {})
    desk.fails(2, "household", "wallet", "--household", str(hid))      # --shared or --separate


def test_merge_and_show(desk: Desk, family: dict[str, int]) -> None:
    mia, dup = family["Mia Adams"], family["Mia Adams (dup)"]
    desk.ok("adjust", "--patient", str(dup), "--credit", "-12.50", "--reason", "old debt")
    desk.ok("book", "--patient", str(dup), "--service", "Acupuncture 30", "--practitioner",
            "Ann Lee", "--at", "2030-01-07T10:00")
    before = desk.table_rows()
    desk.fails(2, "patient", "merge", "--keep", str(mia), "--drop", str(dup), "--reason", " ")
    desk.fails(2, "patient", "merge", "--keep", str(mia), "--drop", str(mia), "--reason", "x")
    desk.fails(2, "patient", "merge", "--keep", str(mia), "--drop", "abc", "--reason", "x")
    assert desk.table_rows() == before
    out = desk.ok("patient", "merge", "--keep", str(mia), "--drop", str(dup),
                  "--reason", "entered twice", "--key", "m1")
    assert (out["appointments_moved"], out["replayed"]) == (1, False)
    again = desk.ok("patient", "merge", "--keep", str(mia), "--drop", str(dup),
                    "--reason", "entered twice", "--key", "m1")
    assert again["replayed"] is True and again["txn_id"] == out["txn_id"]
    assert balance(desk, mia) == ("-12.50", {"Acupuncture": 5})
    shown = desk.ok("patient", "show", str(mia))
    assert shown["merged_from"] == [{"id": dup, "name": "Mia Adams (dup)"}]
    assert [v["starts_at"] for v in shown["upcoming"]] == ["2030-01-07T10:00:00"]
    gone = desk.ok("patient", "show", str(dup))
    assert (gone["active"], gone["merged_into"]) == (False, mia)
    kinds = [t["kind"] for t in desk.ok("history", "--patient", str(mia))]
    assert kinds.count("adjustment") == 1 and "merge" in kinds and "sale" in kinds
    desk.fails(3, "reverse", "--txn", str(out["txn_id"]), "--reason", "undo")
    desk.fails(2, "patient", "show", "0")
    desk.fails(2, "patient", "show", "99999")
    assert desk.ok("db", "verify")["ok"] is True
    text = desk("patient", "show", str(mia), json_output=False)
    assert text.code == 0 and "Mia Adams (patient" in text.out and "lot " in text.out


def test_ending_a_membership_stops_its_renewals(desk: Desk, family: dict[str, int]) -> None:
    mia = family["Mia Adams"]
    desk.ok("package", "add", "--name", "Monthly", "--token-kind", "Acupuncture", "--tokens",
            "2", "--price", "100", "--monthly")
    desk.ok("sell", "--patient", str(mia), "--package", "Monthly", "--pay", "card:100")
    membership = desk.ok("patient", "show", str(mia))["memberships"][0]["id"]
    desk.fails(2, "membership", "end", "--membership", str(membership), "--on", "2000-01-01")
    desk.fails(2, "membership", "end", "--membership", "999")
    start = desk.ok("patient", "show", str(mia))["memberships"][0]["started_on"]
    month = start[:7]
    year, mon = int(month[:4]), int(month[5:])
    next_month = f"{year + mon // 12}-{mon % 12 + 1:02d}-01"
    after = f"{year + (mon + 1) // 12}-{(mon + 1) % 12 + 1:02d}-01"
    assert len(desk.ok("renew", "--as-of", next_month)["txn_ids"]) == 1
    out = desk.ok("membership", "end", "--membership", str(membership), "--on", next_month)
    assert out["ended_on"] == next_month
    desk.fails(3, "membership", "end", "--membership", str(membership))
    assert desk.ok("renew", "--as-of", after)["txn_ids"] == []
    shown = desk.ok("patient", "show", str(mia))["memberships"]
    assert shown[0]["ended_on"] == next_month
