"""`field__any=[…]`: membership in a list as one parameter on PostgreSQL (`= ANY(%s)`), `IN (…)` elsewhere.

Django writes `field__in=[…]` as one placeholder a value. On a table partitioned by month, PostgreSQL
plans each of those constants against every partition: 560 demand ids cost 50 ms of planning for 3 ms of
execution (the city dashboard's hot issues at 5 M demands), and a list of another length is another
statement to plan. As one array parameter the statement is the same whatever the list (planned in
12 ms, then reused). SQLite has no arrays: the lookup is `IN` there. Registered on every field and relation
(`core.apps`); an empty list matches nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject, Lookup


@ForeignObject.register_lookup  # a relation keeps its own lookups: `demand_id__any` needs it there too
@Field.register_lookup
class AnyOf(Lookup):  # type: ignore[type-arg]
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return [self.lhs.output_field.get_prep_value(v) for v in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
