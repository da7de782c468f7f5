"""Demands (诉求): the work order a resident places (下单) and a holder takes (接单), with its events.

Rules kept by the models: states are a closed set; every change is a `DemandEvent` row that is
never updated; deadlines are stored columns with partial indexes over open demands so that the
worker's sweep reads only what is due; public codes and tracking tokens are unique.
"""

from wangge.demands.models.choices import (
    CALL_BACK_CHANNELS,
    FINAL_STATES,
    OPEN_STATES,
    PAUSED_STATES,
    UNFINISHED_STATES,
    WAITING_STATES,
    ActorKind,
    Channel,
    Kind,
    RequestKind,
    RequestState,
    ResolveUnit,
    Satisfaction,
    State,
    Urgency,
    Visibility,
    WarningLevel,
)
from wangge.demands.models.demand import Category, Demand, DemandCounter
from wangge.demands.models.records import (
    CallBack,
    DemandAssist,
    DemandComment,
    DemandEvent,
    DemandFollower,
    DemandPhoto,
    DemandRequest,
    LookupCode,
)

__all__ = [
    "CALL_BACK_CHANNELS",
    "FINAL_STATES",
    "OPEN_STATES",
    "PAUSED_STATES",
    "UNFINISHED_STATES",
    "WAITING_STATES",
    "ActorKind",
    "CallBack",
    "Category",
    "Channel",
    "Demand",
    "DemandAssist",
    "DemandComment",
    "DemandCounter",
    "DemandEvent",
    "DemandFollower",
    "DemandPhoto",
    "DemandRequest",
    "Kind",
    "LookupCode",
    "RequestKind",
    "RequestState",
    "ResolveUnit",
    "Satisfaction",
    "State",
    "Urgency",
    "Visibility",
    "WarningLevel",
]
