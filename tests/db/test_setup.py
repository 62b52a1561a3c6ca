"""First start (services.setup) on SQLite and PostgreSQL: when a clinic needs setup,
what the setup writes, that bad input writes nothing, and that it happens once."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from desk.core.errors import BadInput, Refused
from desk.core.settings import SPECS
from desk.data.models import (
    Audit,
    Package,
    Patient,
    Practitioner,
    Service,
    Setting,
    TokenKind,
    database_proxy,
)
from desk.services import catalog, patients, setup
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust

GOOD: dict[str, Any] = {
    "clinic_name": "  Willow   Street Acupuncture ", "currency": "eur",
    "practitioner": "Dr. Mara Quinn", "service_name": "Acupuncture 60", "minutes": 60,
    "price_cents": 9500, "phone": "(555) 010-2030", "address": "12 Willow Street",
}


def everything() -> dict[str, list[Any]]:
    """Every row a setup may write (a detector of 'nothing written')."""
    return {model.__name__: sorted(map(repr, model.select().tuples()))
            for model in (Setting, Practitioner, Service, TokenKind, Package, Patient, Audit)}


def test_an_empty_clinic_needs_setup(ctx: Any) -> None:
    assert setup.needs_setup()
    # Settings alone are not a clinic: the setup shows them and goes on.
    clinic_settings.set_value(ctx, "clinic_name", "Typed at the command line")
    assert setup.needs_setup()


@pytest.mark.parametrize("first", ["practitioner", "service", "patient", "package",
                                   "inactive patient with history", "inactive practitioner"])
def test_any_practitioner_service_patient_or_transaction_means_set_up(ctx: Any,
                                                                        first: str) -> None:
    if first == "practitioner":
        catalog.add_practitioner(ctx, "Ann Lee")
    elif first == "inactive practitioner":
        who = catalog.add_practitioner(ctx, "Ann Lee")
        Practitioner.update(active=False).where(Practitioner.id == who.id).execute()
    elif first == "service":
        catalog.add_service(ctx, "Massage 60", 60, 9000)
    elif first == "patient":
        patients.add_patient(ctx, "Zoë Adams")
    elif first == "package":
        TokenKind.create(name="Massage")
        catalog.add_package(ctx, "Massage 3-pack", "Massage", 3, 25000)
    else:
        who = patients.add_patient(ctx, "Zoë Adams").id
        adjust(ctx, who, reason="opening balance", credit_cents=1000)
        Patient.update(active=False).where(Patient.id == who).execute()
    assert not setup.needs_setup()


def test_first_setup_writes_settings_practitioner_and_service_in_one_go(ctx: Any) -> None:
    done = setup.first_setup(ctx, **GOOD)

    expected = {key: spec.default for key, spec in SPECS.items()}
    expected.update(clinic_name="Willow Street Acupuncture", currency="EUR",
                    clinic_phone="(555) 010-2030", clinic_address="12 Willow Street")
    assert clinic_settings.all_settings() == expected
    assert done.settings == {"clinic_name": "Willow Street Acupuncture", "currency": "EUR",
                             "clinic_phone": "(555) 010-2030",
                             "clinic_address": "12 Willow Street"}
    assert [(p.id, p.name, p.active) for p in Practitioner.select()] == [
        (done.practitioner_id, "Dr. Mara Quinn", True)]
    [service] = Service.select()
    assert (service.id, service.name, service.duration_min, service.price_cents,
            service.token_kind.name, service.active) == (
        done.service_id, "Acupuncture 60", 60, 9500, "Acupuncture 60", True)
    assert [k.name for k in TokenKind.select()] == ["Acupuncture 60"]
    assert done.token_kind == "Acupuncture 60"
    assert not Package.select().exists() and not Patient.select().exists()
    assert not setup.needs_setup()
    # Audited like every other write: each record, and the setup as a whole.
    actions = sorted((a.entity, a.action, a.staff, a.workstation) for a in Audit.select())
    assert actions == sorted([
        ("setting", "set clinic_name", "tester", "ws-test"),
        ("setting", "set currency", "tester", "ws-test"),
        ("setting", "set clinic_phone", "tester", "ws-test"),
        ("setting", "set clinic_address", "tester", "ws-test"),
        ("practitioner", "create", "tester", "ws-test"),
        ("service", "create", "tester", "ws-test"),
        ("clinic", "first setup", "tester", "ws-test"),
    ])
    summary = json.loads(Audit.get(Audit.action == "first setup").after)
    assert summary["practitioner"] == "Dr. Mara Quinn"
    assert summary["service"] == "Acupuncture 60"


def test_a_token_kind_may_be_named_and_the_optional_fields_left_out(ctx: Any) -> None:
    done = setup.first_setup(ctx, clinic_name="Clinique Zoë", currency="USD",
                             practitioner="李娜", service_name="Massage 90", minutes=90,
                             price_cents=0, token_kind=" Massage ")
    assert done.token_kind == "Massage"
    assert Service.get().token_kind.name == "Massage"
    assert Service.get().price_cents == 0
    stored = clinic_settings.all_settings()
    assert (stored["clinic_name"], stored["currency"], stored["clinic_phone"],
            stored["clinic_address"]) == ("Clinique Zoë", "USD", "", "")
    assert Practitioner.get().name == "李娜"


@pytest.mark.parametrize(("change", "field"), [
    ({"clinic_name": "   "}, "clinic_name"),
    ({"clinic_name": "x" * 501}, "clinic_name"),
    ({"currency": "dollars"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"phone": "555\x000"}, "phone"),
    ({"address": "a" * 501}, "address"),
    ({"practitioner": ""}, "practitioner"),
    ({"service_name": "\t"}, "service_name"),
    ({"minutes": 0}, "minutes"),
    ({"minutes": 1441}, "minutes"),
    ({"price_cents": -1}, "price"),
    ({"price_cents": 10**12}, "price"),
    ({"token_kind": "bad\x07kind"}, "token_kind"),
])
def test_bad_input_names_the_field_and_writes_nothing(ctx: Any, change: dict[str, Any],
                                                      field: str) -> None:
    before = everything()
    with pytest.raises(BadInput) as caught:
        setup.first_setup(ctx, **{**GOOD, **change})
    assert caught.value.field == field
    assert everything() == before
    assert setup.needs_setup()


@pytest.mark.parametrize(("typed", "field"), [
    ({"minutes": "sixty"}, "minutes"),
    ({"minutes": ""}, "minutes"),
    ({"minutes": "１２"}, "minutes"),
    ({"price": "12.345"}, "price"),
    ({"price": "-0"}, "price"),
    ({"price": "1e309"}, "price"),
    ({"price": ""}, "price"),
    # The first problem from the top of the form is the one reported.
    ({"clinic_name": "", "price": "NaN"}, "clinic_name"),
    ({"service_name": "", "minutes": "x"}, "service_name"),
    ({"price": "x", "token_kind": "\x01"}, "price"),
])
def test_typed_text_is_checked_top_to_bottom(typed: dict[str, str], field: str) -> None:
    form = {"clinic_name": "Willow", "currency": "USD", "phone": "", "address": "",
            "practitioner": "Ann", "service_name": "Massage", "minutes": "60",
            "price": "90", "token_kind": ""}
    with pytest.raises(BadInput) as caught:
        setup.read_setup(**{**form, **typed})
    assert caught.value.field == field


def test_read_setup_gives_the_stored_form() -> None:
    form = setup.read_setup(clinic_name="Willow", currency=" gbp ", phone="", address="",
                            practitioner="Ann", service_name="Massage 60", minutes=" 60 ",
                            price="90.5", token_kind="")
    assert form == setup.ClinicSetup("Willow", "GBP", "", "", "Ann", "Massage 60", 60, 9050,
                                     "Massage 60")


def test_a_second_setup_is_refused_and_changes_nothing(ctx: Any) -> None:
    setup.first_setup(ctx, **GOOD)
    before = everything()
    with pytest.raises(Refused):
        setup.first_setup(ctx, **{**GOOD, "clinic_name": "Other", "practitioner": "Ben",
                                  "service_name": "Massage 30"})
    assert everything() == before


def test_an_existing_clinic_refuses_setup(ctx: Any) -> None:
    who = patients.add_patient(ctx, "Zoë Adams").id
    TokenKind.create(name="Massage")
    catalog.add_package(ctx, "Massage 3-pack", "Massage", 3, 25000)
    sell(ctx, who, SaleItem(package="Massage 3-pack"), [])
    before = everything()
    with pytest.raises(Refused):
        setup.first_setup(ctx, **GOOD)
    assert everything() == before


def test_two_desks_setting_up_at_once_set_up_once(ctx: Any, db_url: str) -> None:
    """Each desk's own connection, both starting from an empty clinic: one wins."""
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def desk(name: str) -> None:
        barrier.wait()
        try:
            outcomes.append(setup.first_setup(Ctx(ctx.db, staff=name),
                                              **{**GOOD, "practitioner": name}))
        except Refused as exc:
            outcomes.append(exc)
        finally:
            ctx.db.close()  # this thread's connection

    threads = [threading.Thread(target=desk, args=(n,)) for n in ("Ann", "Ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Refused", "SetupDone"]
    assert Practitioner.select().count() == 1
    assert Service.select().count() == 1


# -- the demo clinic -----------------------------------------------------------------------

@pytest.fixture
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setup, "DEMO_PATIENTS", 6)
    monkeypatch.setattr(setup, "DEMO_DAYS", 1)


def demo_patients(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM patient").fetchone()[0])


def test_the_demo_file_is_beside_the_clinic_file_unless_named(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(setup.DEMO_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert setup.demo_path() == tmp_path / "desk" / "demo.sqlite3"
    monkeypatch.setenv(setup.DEMO_ENV, str(tmp_path / "elsewhere.sqlite3"))
    assert setup.demo_path() == tmp_path / "elsewhere.sqlite3"


def test_the_demo_is_made_in_its_own_file_and_kept_while_fresh(
        ctx: Any, small_demo: None, tmp_path: Path) -> None:
    target = tmp_path / "data" / "demo.sqlite3"
    made = setup.make_demo(target, "tester")
    assert made.made is not None and made.made.patients == 6
    assert made.url == f"sqlite:///{target}"
    # Complete and folded into one file: no temporary file, no write-ahead log left.
    assert sorted(p.name for p in tmp_path.joinpath("data").iterdir()) == ["demo.sqlite3"]
    assert demo_patients(target) == 6
    # The models are bound to the clinic's own database again, and it is still empty.
    assert database_proxy.obj is ctx.db
    assert setup.needs_setup()
    again = setup.make_demo(target, "tester")
    assert again.made is None and demo_patients(target) == 6


def test_a_stale_demo_is_made_afresh(small_demo: None, tmp_path: Path) -> None:
    target = tmp_path / "demo.sqlite3"
    target.write_bytes(b"an old demo")
    week_ago = time.time() - setup.DEMO_MAX_AGE.total_seconds() - 60
    os.utime(target, (week_ago, week_ago))
    assert not setup.demo_is_fresh(target)
    assert setup.make_demo(target).made is not None
    assert demo_patients(target) == 6
    assert setup.demo_is_fresh(target)


def test_a_failed_demo_leaves_no_file(ctx: Any, small_demo: None, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(setup.demo, "fill", broken)
    folder = tmp_path / "demo"
    with pytest.raises(OSError):
        setup.make_demo(folder / "demo.sqlite3")
    assert list(folder.iterdir()) == []
    assert database_proxy.obj is ctx.db
