"""Hot lookups compiled to SQL once per process, then run with new values.

Turning a queryset into SQL (joins, select_related columns, ordering, converters) costs more
CPU than PostgreSQL spends on a unique-index lookup. The API asks the same few questions on
every request (whose token is this, is this order known, lock this contact), so those are
compiled once and run with the request's values: same SQL, same model instances, a fraction of
the Python work.
"""
import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)


class PreparedLookup(Generic[M]):
    """A queryset that finds at most one row, compiled once per process and database.

    `build(**values)` returns the queryset; it is called once with `placeholders`, stand-in
    values that must each appear exactly once among the compiled parameters, where every run
    puts its real values. The query's shape must not depend on the values (equality filters).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **placeholders: Any) -> None:
        self._build = build
        self._placeholders = placeholders
        self._compiled: dict[str, _Compiled[M]] = {}

    def first(self, **values: Any) -> M | None:
        """The matching row as a model instance (select_related and annotations included)."""
        if values.keys() != self._placeholders.keys():
            raise TypeError(f"expected values for {sorted(self._placeholders)}")
        alias = router.db_for_read(self._model)
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = _Compiled(
                self._build(**self._placeholders).using(alias)[:1], self._placeholders)
        return compiled.run(values)

    @functools.cached_property
    def _model(self) -> type[M]:
        return self._build(**self._placeholders).model


class _Compiled(Generic[M]):
    def __init__(self, queryset: QuerySet[M], placeholders: dict[str, Any]) -> None:
        self.model = queryset.model
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.positions = {}
        for name, placeholder in placeholders.items():
            found = [i for i, param in enumerate(self.params)
                     if type(param) is type(placeholder) and param == placeholder]
            if len(found) != 1:
                raise RuntimeError(f"placeholder {name!r} must appear once in the parameters")
            self.positions[name] = found[0]
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = list(compiler.get_converters([column for column, *_ in select]).items())
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_columns = slice(start, end)
        self.init_list = [column.target.attname for column, *_ in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, self.alias)
        self.annotation_columns = dict(compiler.annotation_col_map)
        self.for_update = queryset.query.select_for_update

    def run(self, values: dict[str, Any]) -> M | None:
        connection = connections[self.alias]
        if self.for_update and connection.get_autocommit():
            raise RuntimeError("a locking lookup must run inside a transaction")
        params = list(self.params)
        for name, position in self.positions.items():
            params[position] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (converters, expression) in self.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        instance = self.model.from_db(self.alias, self.init_list, row[self.model_columns])
        for populator in self.related_populators:
            populator.populate(row, instance)
        for attribute, position in self.annotation_columns.items():
            setattr(instance, attribute, row[position])
        return instance
