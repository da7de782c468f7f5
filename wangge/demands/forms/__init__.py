"""Input of the demand pages: the resident's report, staff intake, and one small form per move.

Forms check the shape of what was typed (required, length, a phone that looks like one, a
category or grid that exists) and say so in Chinese and English next to the field; the rules of
the demand's life (who may act, what routes where) stay in the services, whose errors the views
put next to the same fields.

The package's modules: `common` (bilingual field errors, the service-field map, category, phone
and place), `resident` (report, follow offer, tracking page), `staff` (intake and the moves).
Callers import the package: every public name is re-exported here.
"""

from wangge.core.photos import MAX_PHOTOS
from wangge.demands.forms.common import (
    FIELD_ALIASES,
    PlaceMixin,
    both,
    category_groups,
    clean_category_code,
    clean_phone_value,
    make_title,
    model_field,
    photo_count_error,
    required,
    too_long,
)
from wangge.demands.forms.resident import (
    FOLLOW_OFFER_SECONDS,
    FOLLOW_SALT,
    AddInfoForm,
    RateForm,
    ReportForm,
    ResidentCommentForm,
    follow_offer,
    follow_offer_pk,
)
from wangge.demands.forms.staff import (
    MOVE_FORMS,
    PHOTO_MOVES,
    AcceptForm,
    CallBackForm,
    DispatchForm,
    EscalateForm,
    MergeForm,
    MoveForm,
    ReassignForm,
    RejectForm,
    ResolveForm,
    ReturnForm,
    StaffCommentForm,
    StaffDemandForm,
)

__all__ = [
    "FIELD_ALIASES",
    "FOLLOW_OFFER_SECONDS",
    "FOLLOW_SALT",
    "MAX_PHOTOS",
    "MOVE_FORMS",
    "PHOTO_MOVES",
    "AcceptForm",
    "AddInfoForm",
    "CallBackForm",
    "DispatchForm",
    "EscalateForm",
    "MergeForm",
    "MoveForm",
    "PlaceMixin",
    "RateForm",
    "ReassignForm",
    "RejectForm",
    "ReportForm",
    "ResidentCommentForm",
    "ResolveForm",
    "ReturnForm",
    "StaffCommentForm",
    "StaffDemandForm",
    "both",
    "category_groups",
    "clean_category_code",
    "clean_phone_value",
    "follow_offer",
    "follow_offer_pk",
    "make_title",
    "model_field",
    "photo_count_error",
    "required",
    "too_long",
]

# Verification before closing (核查): the verifier's forms, posted to the same move view as the holder's.
from wangge.demands.forms.verification import VERIFY_FORMS, VerifyBackForm, VerifyForm

MOVE_FORMS.update(VERIFY_FORMS)
PHOTO_MOVES.update(VERIFY_FORMS)
__all__ += ["VERIFY_FORMS", "VerifyBackForm", "VerifyForm"]
