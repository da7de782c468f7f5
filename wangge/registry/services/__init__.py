"""The only writers of the registry (a package: `base` keeps the tree, people and households;
`register` the grid leaders' edits, their history and the village's approval of moves)."""

from wangge.registry.services.base import (
    LEVEL_ORDER,
    area_create,
    area_move,
    area_update,
    clean_id_number,
    department_create,
    department_update,
    grid_set_leader,
    household_create,
    household_delete,
    household_key,
    household_move,
    path_columns,
    person_create,
    person_update,
    registry_recount,
)
from wangge.registry.services.register import (
    MemberDraft,
    household_move_decide,
    household_move_direct,
    household_move_propose,
    household_update,
)

__all__ = [
    "LEVEL_ORDER",
    "MemberDraft",
    "area_create",
    "area_move",
    "area_update",
    "clean_id_number",
    "department_create",
    "department_update",
    "grid_set_leader",
    "household_create",
    "household_delete",
    "household_key",
    "household_move",
    "household_move_decide",
    "household_move_direct",
    "household_move_propose",
    "household_update",
    "path_columns",
    "person_create",
    "person_update",
    "registry_recount",
]
