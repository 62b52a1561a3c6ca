"""The audit log: who changed which non-ledger record, when, before and after."""

from __future__ import annotations

import json

from desk.data.models import Audit
from desk.services.context import Ctx


def record(ctx: Ctx, entity: str, entity_id: int | None, action: str,
           before: dict[str, object] | None = None,
           after: dict[str, object] | None = None) -> None:
    Audit.create(at=ctx.now(), staff=ctx.staff, workstation=ctx.workstation, entity=entity,
                 entity_id=entity_id, action=action,
                 before=None if before is None else json.dumps(before, default=str,
                                                               ensure_ascii=False),
                 after=None if after is None else json.dumps(after, default=str,
                                                             ensure_ascii=False))
