"""Ledger accounts: their codes, creation on first use, and patient balances."""

from __future__ import annotations

from dataclasses import dataclass, field

from peewee import JOIN, Expression, fn

from desk.core.dates import as_date
from desk.core.errors import Refused
from desk.core.ledger import MONEY, credit_of, token_unit, tokens_of
from desk.data.database import is_postgres
from desk.data.models import Account, Hold, Household, Lot, Patient, TokenKind, rows
from desk.data.tx import memo
from desk.services.results import Balance

# Clinic-side account codes (the other side of every patient movement).
CASH_PREFIX = "tender:"
PREPAID = "prepaid"            # value of unspent prepaid tokens (a liability)
ADJUSTMENTS = "adjustments"    # manager corrections, goodwill, write-offs
REVENUE_SALES = "revenue:sales"
REVENUE_ITEMS = "revenue:items"
REVENUE_FEES = "revenue:fees"
REVENUE_EXPIRED = "revenue:expired"


#: Who holds a balance: ("p", patient id) for a patient's own wallet, ("h", household
#: id) for a household's shared wallet.
Owner = tuple[str, int]


@dataclass(frozen=True, slots=True)
class WalletScope:
    """Which accounts hold some patients' balances: their own, or for members of a
    household that shares one wallet, the household's (one query to find out)."""

    patient_ids: tuple[int, ...]
    #: patient -> household, for every member of the shared households involved
    #: (also members that are not in ``patient_ids``).
    shared: dict[int, int] = field(default_factory=dict)

    def owner(self, patient_id: int) -> Owner:
        household = self.shared.get(patient_id)
        return ("p", patient_id) if household is None else ("h", household)

    def owner_of(self, patient_id: int | None, household_id: int | None) -> Owner | None:
        """The owner of an account row, or None for an account outside the scope
        (a shared-wallet member's own accounts, which stay empty)."""
        if household_id is not None:
            return ("h", int(household_id))
        if patient_id is not None and int(patient_id) not in self.shared:
            return ("p", int(patient_id))
        return None

    def members(self) -> list[int]:
        """The patients and every member of their shared households."""
        return sorted(set(self.patient_ids) | set(self.shared))

    def condition(self) -> Expression:
        own = [pid for pid in self.patient_ids if pid not in self.shared]
        households = sorted(set(self.shared.values()))
        cond: Expression = Account.patient.in_(own)
        if households:
            cond = cond | Account.household.in_(households)
        return cond


def wallet_scope(patient_ids: list[int]) -> WalletScope:
    ids = tuple(sorted(set(patient_ids)))
    if not ids:
        return WalletScope(ids)
    theirs = Patient.select(Patient.household).where(Patient.id.in_(ids),
                                                     Patient.household.is_null(False))
    shared = {int(pid): int(hid) for pid, hid in rows(
        Patient.select(Patient.id, Patient.household)
        .join(Household, on=(Patient.household == Household.id))
        .where(Household.shared_wallet == True, Patient.household.in_(theirs)))}  # noqa: E712
    return WalletScope(ids, shared)


def shared_household(patient_id: int) -> int | None:
    """The household whose shared wallet this patient spends, if any (cached for the
    rest of the current write transaction)."""
    return _wallet_of(patient_id)[0]


def _wallet_of(patient_id: int) -> tuple[int | None, int | None]:
    """(shared household or None, patient merged into or None), one query, cached for
    the rest of the current write transaction."""
    cache = memo()
    key = f"wallet:{patient_id}"
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[no-any-return]
    if cache is not None and is_postgres(Patient._meta.database):
        # In a write: share-lock the patient and household rows, so a desk linking
        # this patient to a household (which updates them) waits for this transaction
        # to end, and this one waits for a link in progress and then reads its result.
        found = list(rows(Patient.select(Patient.household, Patient.merged_into)
                          .where(Patient.id == patient_id)
                          .for_update("FOR SHARE")))  # type: ignore[arg-type]
        household, merged_into = found[0] if found else (None, None)
        if household is not None and not (Household.select(Household.shared_wallet)
                                          .where(Household.id == household)
                                          .for_update("FOR SHARE")  # type: ignore[arg-type]
                                          .scalar()):
            household = None
    else:
        found = list(rows(Patient.select(Patient.household, Patient.merged_into,
                                         Household.shared_wallet)
                          .join(Household, JOIN.LEFT_OUTER,
                                on=(Patient.household == Household.id))
                          .where(Patient.id == patient_id)))
        household, merged_into, shared = found[0] if found else (None, None, False)
        if not shared:
            household = None
    wallet = (None if household is None else int(household),
              None if merged_into is None else int(merged_into))
    if cache is not None:
        cache[key] = wallet
    return wallet


def _check_not_merged(patient_id: int) -> None:
    """Refuse a write on a duplicate merged into another patient: what it received
    would be hidden there."""
    merged_into = _wallet_of(patient_id)[1]
    if merged_into is not None:
        raise Refused(f"patient {patient_id} was merged into patient {merged_into}; "
                      "use that one")


def preload(patient_ids: list[int]) -> None:
    """Fetch which wallet each patient spends and the ids of the clinic's accounts and
    theirs in two queries, for the rest of the current write transaction."""
    cache = memo()
    if cache is None:
        return
    ids = sorted(set(patient_ids))
    if is_postgres(Patient._meta.database):   # PostgreSQL reads the wallet under a lock
        wallets = {pid: _wallet_of(pid) for pid in ids}
    else:
        wallets = {}
        for pid, household, merged_into, shared in rows(
                Patient.select(Patient.id, Patient.household, Patient.merged_into,
                               Household.shared_wallet)
                .join(Household, JOIN.LEFT_OUTER, on=(Patient.household == Household.id))
                .where(Patient.id.in_(ids))):
            wallets[int(pid)] = (int(household) if shared else None,
                                 None if merged_into is None else int(merged_into))
            cache[f"wallet:{pid}"] = wallets[int(pid)]
    own = [pid for pid in ids if wallets.get(pid, (None, None))[0] is None]
    households = sorted({w[0] for w in wallets.values() if w[0] is not None})
    mine = Account.patient.in_(own) | Account.household.in_(households)
    for account_id, code in rows(Account.select(Account.id, Account.code).where(
            Account.patient.is_null() & Account.household.is_null() | mine)):
        cache[f"acct:{code}"] = int(account_id)


def _get_or_create(code: str, unit: str, kind: str, *, patient_id: int | None = None,
                   token_kind_id: int | None = None, household_id: int | None = None) -> int:
    cache = memo()
    if cache is not None and f"acct:{code}" in cache:
        return int(cache[f"acct:{code}"])
    row = Account.select(Account.id).where(Account.code == code).first()
    if row is None:
        (Account.insert(code=code, unit=unit, kind=kind, patient=patient_id,
                        household=household_id, token_kind=token_kind_id, balance=0)
         .on_conflict_ignore().execute())
        row = Account.get(Account.code == code)
    if cache is not None:
        cache[f"acct:{code}"] = int(row.id)
    return int(row.id)


def clinic_money(code: str) -> int:
    kind = code.split(":", 1)[0]
    return _get_or_create(code, MONEY, kind)


def tender_account(method: str) -> int:
    return clinic_money(f"{CASH_PREFIX}{method}")


def service_revenue(service_id: int) -> int:
    return clinic_money(f"revenue:service:{service_id}")


def tokens_issued(kind_id: int) -> int:
    return _get_or_create(f"issued:{kind_id}", token_unit(kind_id), "issued",
                          token_kind_id=kind_id)


def patient_credit(patient_id: int) -> int:
    """The credit account this patient spends: their own, or their household's."""
    _check_not_merged(patient_id)
    household = shared_household(patient_id)
    if household is not None:
        return household_credit(household)
    return own_credit(patient_id)


def patient_tokens(patient_id: int, kind_id: int) -> int:
    """The token account of a kind this patient spends: their own, or their household's."""
    _check_not_merged(patient_id)
    household = shared_household(patient_id)
    if household is not None:
        return household_tokens(household, kind_id)
    return own_tokens(patient_id, kind_id)


def own_credit(patient_id: int) -> int:
    return _get_or_create(f"patient:{patient_id}:credit", MONEY, "patient_credit",
                          patient_id=patient_id)


def own_tokens(patient_id: int, kind_id: int) -> int:
    return _get_or_create(f"patient:{patient_id}:tok:{kind_id}", token_unit(kind_id),
                          "patient_tokens", patient_id=patient_id, token_kind_id=kind_id)


def household_credit(household_id: int) -> int:
    return _get_or_create(f"household:{household_id}:credit", MONEY, "patient_credit",
                          household_id=household_id)


def household_tokens(household_id: int, kind_id: int) -> int:
    return _get_or_create(f"household:{household_id}:tok:{kind_id}", token_unit(kind_id),
                          "patient_tokens", household_id=household_id, token_kind_id=kind_id)


def wallet_codes(patient_id: int, household_id: int | None, kind_id: int) -> dict[str, str]:
    """The codes of the token account of a kind and of the credit account a patient
    spends ("tokens", "credit" by code), to look their ids up without creating them."""
    owner = f"patient:{patient_id}" if household_id is None else f"household:{household_id}"
    return {f"{owner}:tok:{kind_id}": "tokens", f"{owner}:credit": "credit"}


def owner_accounts(owner: Owner) -> Expression:
    """The condition selecting one owner's accounts."""
    return Account.household == owner[1] if owner[0] == "h" else Account.patient == owner[1]


def merged_ids(patient_id: int) -> list[int]:
    """The patient and every duplicate merged into it (directly or through another)."""
    found = [patient_id]
    frontier = [patient_id]
    while frontier:
        frontier = [int(pid) for (pid,) in rows(
            Patient.select(Patient.id).where(Patient.merged_into.in_(frontier)))]
        frontier = [pid for pid in frontier if pid not in found]
        found += frontier
    return found


def history_condition(patient_id: int) -> Expression:
    """The accounts whose movements make up a patient's history: their own, those of
    the duplicates merged into them, and their household's shared wallet."""
    cond: Expression = Account.patient.in_(merged_ids(patient_id))
    household = shared_household(patient_id)
    if household is not None:
        cond = cond | (Account.household == household)
    return cond


def balances_for(patient_ids: list[int]) -> dict[int, Balance]:
    """Balances of several patients in four queries (who shares a wallet, cached
    balances, lot expiries, tokens held for booked visits). Members of a household
    sharing one wallet all show the household's balance."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    scope = wallet_scope(ids)
    owners = {scope.owner(pid) for pid in ids}
    credit: dict[Owner, int] = dict.fromkeys(owners, 0)
    tokens: dict[Owner, dict[str, int]] = {o: {} for o in owners}
    expiry: dict[Owner, dict[str, object]] = {o: {} for o in owners}
    held: dict[Owner, dict[str, int]] = {o: {} for o in owners}
    where = scope.condition()
    for pid, hid, kind, balance, kind_name in rows(
            Account.select(Account.patient, Account.household, Account.kind, Account.balance,
                           TokenKind.name)
            .join(TokenKind, join_type=JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
            .where(where)):
        owner = scope.owner_of(pid, hid)
        if owner not in owners:
            continue
        if kind == "patient_credit":
            credit[owner] = credit_of(balance)
        elif tokens_of(balance) != 0:
            tokens[owner][kind_name] = tokens_of(balance)
    for pid, hid, kind_name, first in rows(
            Lot.select(Account.patient, Account.household, TokenKind.name,
                       fn.MIN(Lot.expires_on))
            .join(Account, on=(Lot.account == Account.id))
            .join(TokenKind, on=(Account.token_kind == TokenKind.id))
            .where(where, Lot.remaining > 0, Lot.expires_on.is_null(False))
            .group_by(Account.patient, Account.household, TokenKind.name)):
        owner = scope.owner_of(pid, hid)
        if owner in owners:
            expiry[owner][kind_name] = as_date(first)
    for pid, hid, kind_name, quantity in rows(
            Hold.select(Account.patient, Account.household, TokenKind.name, fn.SUM(Hold.quantity))
            .join(Account, on=(Hold.account == Account.id))
            .join(TokenKind, on=(Account.token_kind == TokenKind.id))
            .where(where, Hold.status == "open")
            .group_by(Account.patient, Account.household, TokenKind.name)):
        owner = scope.owner_of(pid, hid)
        if owner in owners:
            held[owner][kind_name] = int(quantity)
    out = {}
    for pid in ids:
        owner = scope.owner(pid)
        out[pid] = Balance(pid, credit[owner], dict(tokens[owner]), dict(held[owner]),
                           dict(expiry[owner]),  # type: ignore[arg-type]
                           owner[1] if owner[0] == "h" else None)
    return out


def balance_of(patient_id: int) -> Balance:
    return balances_for([patient_id])[patient_id]


def patient_exists(patient_id: int) -> bool:
    return Patient.select().where(Patient.id == patient_id).exists()
