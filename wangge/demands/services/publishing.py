"""Publishing (公开审核): a staff member decides what the public reads of a demand.

`demand_publish_approve` stores the text the public reads (the moderator starts from the reporter's
words redacted by `demands.public.proposed_text`, and may edit them); `demand_publish_withdraw`
records the decision not to publish: `public_approved_at` is set and `public_text` emptied, so the
public reads the neutral sentence of the category, even when the reporter agreed to publish (a
moderator may always hold back). Both leave a staff-only note ("publish"/"unpublish") on the
timeline. What the public then sees is `demands.public.public_view`; who may decide is
`permissions.can_moderate`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.text import clean_text
from wangge.demands.models import Demand
from wangge.demands.permissions import can_moderate, can_see, is_confidential
from wangge.demands.services._common import _note_event, _reload, in_chinese

MAX_PUBLIC_TEXT = 2000
PUBLIC_TEXT_LABEL = _("public text")  # the model field's own label


def _moderated(demand: Demand | int, actor: User) -> Demand:
    demand = _reload(demand)
    if not can_see(demand=demand, user=actor):
        raise NotFound(_("demand not found"))
    if not can_moderate(demand=demand, user=actor):
        raise PermissionDenied(
            _("only town staff or a city administrator of the demand's area decide what the public sees"),
            code="not_moderator",
        )
    return demand


@transaction.atomic
def demand_publish_approve(*, demand: Demand | int, actor: User, text: str) -> Demand:
    """Publish `text` as what the public reads of `demand` (its title is the first line)."""
    demand = _moderated(demand, actor)
    if is_confidential(demand):
        raise ValidationFailed(_("reports (举报) and confidential demands (保密) are never published"), field="text")
    text = clean_text(text, field="text", label=PUBLIC_TEXT_LABEL, limit=MAX_PUBLIC_TEXT, required=True)
    now = clock.now()
    Demand.objects.filter(pk=demand.pk).update(public_text=text, public_approved_at=now, public_approved_by=actor)
    demand.public_text, demand.public_approved_at, demand.public_approved_by = text, now, actor
    _note_event(
        demand, action="publish", note=in_chinese(_("Public text: %(text)s"), {"text": text}), actor=actor, at=now
    )
    return demand


@transaction.atomic
def demand_publish_withdraw(*, demand: Demand | int, actor: User) -> Demand:
    """Publish nothing of `demand`'s words: the public reads the neutral sentence of its category."""
    demand = _moderated(demand, actor)
    now = clock.now()
    Demand.objects.filter(pk=demand.pk).update(public_text="", public_approved_at=now, public_approved_by=actor)
    demand.public_text, demand.public_approved_at, demand.public_approved_by = "", now, actor
    _note_event(demand, action="unpublish", note="", actor=actor, at=now)
    return demand
