"""Typed ids so a patient id is never passed where a transaction id belongs."""

from typing import NewType

PatientId = NewType("PatientId", int)
PractitionerId = NewType("PractitionerId", int)
ServiceId = NewType("ServiceId", int)
PackageId = NewType("PackageId", int)
TokenKindId = NewType("TokenKindId", int)
AccountId = NewType("AccountId", int)
TxnId = NewType("TxnId", int)
LotId = NewType("LotId", int)
HouseholdId = NewType("HouseholdId", int)
