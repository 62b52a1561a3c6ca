"""Patients (search, verbatim names), the catalog and the clinic settings on both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desk.core.errors import BadInput, NotFound
from desk.data.models import Audit, Package, Patient, Practitioner, Service, Setting
from desk.services import catalog, patients
from desk.services import settings as clinic_settings
from desk.services.sales import SaleItem, sell


def names(found: list[patients.PatientInfo]) -> list[str]:
    return [p.name for p in found]


# -- patients ------------------------------------------------------------------------------

def test_search_ignores_accents_and_case_and_matches_phone_digits(ctx: Any) -> None:
    patients.add_patient(ctx, "Ann Zoellner", phone="+1 (415) 555-0000")
    zoe = patients.add_patient(ctx, "Zoë Adams", phone="555-123-4")
    patients.add_patient(ctx, "Bob Brown", phone="(555) 000-0123")

    for query in ("zoe", "ZOË", "Zoe", "zoë", "  zoe  "):
        assert names(patients.find_patients(query)) == ["Zoë Adams", "Ann Zoellner"], query
    assert names(patients.find_patients("ZOE ADAMS")) == ["Zoë Adams"]
    assert names(patients.find_patients("adams")) == ["Zoë Adams"]
    assert names(patients.find_patients("ADAMS")) == ["Zoë Adams"]
    assert [p.id for p in patients.find_patients("5551234")] == [zoe.id]
    assert [p.id for p in patients.find_patients("555-1234")] == [zoe.id]
    assert names(patients.find_patients("5550000")) == ["Ann Zoellner", "Bob Brown"]
    assert patients.find_patients("5559999") == []
    assert patients.find_patients("xavier") == []


def test_a_decomposed_accent_is_stored_composed_and_found(ctx: Any) -> None:
    typed = "Zoe\u0308 Adams"  # e + combining diaeresis, as some keyboards send it
    info = patients.add_patient(ctx, typed)
    assert info.name == "Zoë Adams"
    assert Patient.get_by_id(info.id).name == "Zoë Adams"
    assert names(patients.find_patients("zoë")) == ["Zoë Adams"]
    assert names(patients.find_patients(typed)) == ["Zoë Adams"]


AWKWARD_NAMES = [
    "Seán O'Brien",
    'Robert "Bobby" Tables',
    "Robert'); DROP TABLE patient;--",
    "1' OR '1'='1",
    "李小龍",
    "Zoë 🌸 Smith",
    "Ørsted-Ñandú",
    "back\\slash",
    "مريم",
]


def test_awkward_names_are_stored_verbatim_and_found(ctx: Any) -> None:
    ids = {name: patients.add_patient(ctx, name).id for name in AWKWARD_NAMES}
    assert Patient.select().count() == len(AWKWARD_NAMES)
    for name, patient_id in ids.items():
        assert patients.get_patient(patient_id).name == name
        assert Patient.get_by_id(patient_id).name == name
        assert patient_id in [p.id for p in patients.find_patients(name)], name
    assert names(patients.find_patients("小龍")) == ["李小龍"]
    assert names(patients.find_patients("🌸")) == ["Zoë 🌸 Smith"]
    assert names(patients.find_patients("drop table")) == ["Robert'); DROP TABLE patient;--"]
    audit = Audit.get((Audit.entity == "patient") & (Audit.entity_id == ids["李小龍"]))
    assert json.loads(audit.after)["name"] == "李小龍"


def test_like_wildcards_in_a_query_match_literally(ctx: Any) -> None:
    for name in ("100% Natural", "1000 Natural", "Ann_Lee", "AnnXLee", "Ann Lee",
                 "back\\slash", "backslash"):
        patients.add_patient(ctx, name)
    assert names(patients.find_patients("%")) == ["100% Natural"]
    assert names(patients.find_patients("0%")) == ["100% Natural"]
    assert names(patients.find_patients("n_l")) == ["Ann_Lee"]
    assert names(patients.find_patients("_")) == ["Ann_Lee"]
    assert names(patients.find_patients("k\\s")) == ["back\\slash"]
    assert names(patients.find_patients("%_%")) == []


def test_patient_input_is_checked(ctx: Any) -> None:
    for kwargs in ({"name": ""}, {"name": "   "}, {"name": "Tab\tName"},
                   {"name": "x" * 201}, {"name": "Ann", "phone": "12"},
                   {"name": "Ann", "email": "not-an-email"}):
        with pytest.raises(BadInput):
            patients.add_patient(ctx, **kwargs)
    for query in ("", "   "):
        with pytest.raises(BadInput):
            patients.find_patients(query)
    with pytest.raises(NotFound):
        patients.get_patient(12345)
    assert Patient.select().count() == 0
    assert Audit.select().count() == 0


# -- catalog -------------------------------------------------------------------------------

def test_duplicate_catalog_names_are_refused(ctx: Any) -> None:
    catalog.add_practitioner(ctx, "Dr. Léa Martin")
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind="Acupuncture")
    catalog.add_package(ctx, "Five acupuncture", "Acupuncture", 5, 35000)
    audits = Audit.select().count()

    attempts = {
        "practitioner, same name": lambda: catalog.add_practitioner(ctx, "Dr. Léa Martin"),
        "practitioner, case and accent": lambda: catalog.add_practitioner(ctx, "DR. LEA MARTIN"),
        "service, same name": lambda: catalog.add_service(ctx, "Acupuncture 30", 45, 9000),
        "service, spacing and case": lambda: catalog.add_service(ctx, "  acupuncture   30 ",
                                                                 30, 8000),
        "package, same name": lambda: catalog.add_package(ctx, "Five acupuncture",
                                                          "Acupuncture", 5, 35000),
        "package, case": lambda: catalog.add_package(ctx, "FIVE ACUPUNCTURE", "Acupuncture",
                                                     10, 60000),
    }
    wrong = []
    for label, attempt in attempts.items():
        try:
            attempt()
        except BadInput:
            continue
        wrong.append(label)
    assert wrong == []
    assert (Practitioner.select().count(), Service.select().count(),
            Package.select().count()) == (1, 1, 1)
    assert Audit.select().count() == audits


def test_unknown_package_or_token_kind_is_not_found(ctx: Any) -> None:
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind="Acupuncture")
    catalog.add_package(ctx, "Five acupuncture", "Acupuncture", 5, 35000)
    zoe = patients.add_patient(ctx, "Zoë Adams").id

    assert catalog.package_by_name("five ACUPUNCTURE").name == "Five acupuncture"
    with pytest.raises(NotFound, match="Five acupuncture"):  # the message lists known ones
        catalog.package_by_name("Ten massages")
    with pytest.raises(NotFound):
        sell(ctx, zoe, SaleItem(package="Ten massages"))
    with pytest.raises(NotFound):
        catalog.add_package(ctx, "Three reiki", "Reiki", 3, 9000)
    with pytest.raises(NotFound):
        catalog.service_by_name("Massage 60")
    assert Package.select().count() == 1


def test_catalog_values_are_checked(ctx: Any) -> None:
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind="Acupuncture")
    bad = [
        lambda: catalog.add_service(ctx, "Zero minutes", 0, 8000),
        lambda: catalog.add_service(ctx, "A day and more", 1441, 8000),
        lambda: catalog.add_service(ctx, "Negative", 30, -1),
        lambda: catalog.add_service(ctx, "Pink", 30, 100, colour="pink"),
        lambda: catalog.add_package(ctx, "No tokens", "Acupuncture", 0, 100),
        lambda: catalog.add_package(ctx, "Negative", "Acupuncture", 1, -1),
        lambda: catalog.add_package(ctx, "Never", "Acupuncture", 1, 100, expires_days=0),
        lambda: catalog.add_practitioner(ctx, ""),
    ]
    for index, attempt in enumerate(bad):
        with pytest.raises(BadInput):
            attempt()
        assert Service.select().count() == 1, index
    assert Package.select().count() == 0
    created = catalog.add_service(ctx, "Massage 60", 60, 12000, colour=" #ABCDEF ")
    row = Service.get_by_id(created.id)
    assert (row.colour, row.token_kind.name) == ("#abcdef", "Massage 60")


# -- settings ------------------------------------------------------------------------------

def test_settings_defaults_and_canonical_values(ctx: Any) -> None:
    assert clinic_settings.get("day_start") == "08:00"
    assert clinic_settings.get("currency") == "USD"
    assert clinic_settings.get_bool("auto_apply_tokens") is True
    assert clinic_settings.get_bool("allow_negative_tokens") is False

    assert clinic_settings.set_value(ctx, "auto_print", "YES") == "true"
    assert clinic_settings.set_value(ctx, "day_start", " 7:30 ") == "07:30"
    assert clinic_settings.set_value(ctx, "late_cancel_fee", "25") == "25.00"
    assert clinic_settings.set_value(ctx, "currency", "eur") == "EUR"
    assert clinic_settings.set_value(ctx, "clinic_name", "Ōtaki \"Calm\" Clinic") == \
        'Ōtaki "Calm" Clinic'
    assert clinic_settings.get_bool("auto_print") is True
    stored = dict(Setting.select(Setting.key, Setting.value).tuples())
    assert stored == {"auto_print": "true", "day_start": "07:30", "late_cancel_fee": "25.00",
                      "currency": "EUR", "clinic_name": 'Ōtaki "Calm" Clinic'}


def test_setting_changes_are_audited(ctx: Any) -> None:
    clinic_settings.set_value(ctx, "auto_print", "on")
    clinic_settings.set_value(ctx, "auto_print", "true")  # no change: no audit row
    clinic_settings.set_value(ctx, "auto_print", "off")

    rows = list(Audit.select().where(Audit.entity == "setting").order_by(Audit.id))
    assert [(r.action, json.loads(r.before), json.loads(r.after)) for r in rows] == [
        ("set auto_print", {"auto_print": "false"}, {"auto_print": "true"}),
        ("set auto_print", {"auto_print": "true"}, {"auto_print": "false"}),
    ]
    assert {(r.staff, r.workstation) for r in rows} == {("tester", "ws-test")}
    assert rows[0].at == ctx.now()


def test_invalid_settings_are_bad_input_and_write_nothing(ctx: Any) -> None:
    attempts = {
        "bad bool": ("auto_print", "maybe"),
        "empty bool": ("allow_double_booking", ""),
        "bad time": ("day_start", "25:00"),
        "time with letters": ("day_end", "7pm"),
        "day_end before day_start": ("day_end", "07:00"),
        "day_end equal to day_start": ("day_end", "08:00"),
        "day_start after day_end": ("day_start", "20:00"),
        "int out of range": ("late_cancel_hours", "1000"),
        "negative int": ("idle_lock_minutes", "-1"),
        "bad money": ("no_show_fee", "12,50"),
        "bad choice": ("receipt_paper", "a5"),
        "bad currency": ("currency", "dollars"),
        "unknown key": ("colour_scheme", "dark"),
    }
    wrong = []
    for label, (key, text) in attempts.items():
        try:
            clinic_settings.set_value(ctx, key, text)
        except BadInput:
            continue
        wrong.append(label)
    assert wrong == []
    assert Setting.select().count() == 0
    assert Audit.select().count() == 0
    with pytest.raises(BadInput):
        clinic_settings.get("colour_scheme")

    # the pair rule sees the stored value, not only the default
    clinic_settings.set_value(ctx, "day_end", "21:00")
    assert clinic_settings.set_value(ctx, "day_start", "20:00") == "20:00"
    with pytest.raises(BadInput, match="day_end"):
        clinic_settings.set_value(ctx, "day_end", "19:30")
    assert clinic_settings.get("day_end") == "21:00"
    assert Audit.select().where(Audit.entity == "setting").count() == 2
