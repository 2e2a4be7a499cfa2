"""Document providers: one Mimesis schema per entity, registered by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from mimesis.random import Random

from datagen.errors import SchemaError
from datagen.registry import Registry
from datagen.schema import Compiler, FieldFactory, Key, Ref, Runtime, Spec, walk_specs
from datagen.seeding import REFERENCE_DATE, SHARD_SIZE, plan_shards
from datagen.types import Document, DocumentFactory

if TYPE_CHECKING:  # numpy is imported by what builds rows a shard at a time only
    from datagen.columns import RowsFactory
    from datagen.lineage import Lineage

registry: Registry[DocumentProvider] = Registry("document provider", "document_providers")


@dataclass(frozen=True)
class FieldInfo:
    """One leaf field of a provider's documents, for listings and docs."""

    path: str
    generator: str


class DocumentProvider:
    """Base class of document providers: subclass it in ``document_providers/``.

    Set ``name`` (the CLI's ``-p`` value) and ``key`` (the field that
    identifies a document), and return a template from ``create_schema``.
    Fields made with ``_.ref("org")`` declare references (``org_id`` →
    ``org.id``). ``unique`` names the top-level fields whose values are
    distinct across a run, as production keeps them (``email``): the provider
    makes them so, and their tables declare them UNIQUE. Optionally override
    ``finalize`` to derive fields from others.
    """

    name: ClassVar[str]
    key: ClassVar[str] = "id"
    unique: ClassVar[tuple[str, ...]] = ()
    created: ClassVar[str | None] = None  # when a row was created; default: "created_at"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            registry.register(cls.name, cls)

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define create_schema")

    def finalize(self, document: Document, random: Random) -> None:
        """Hook: adjust a generated document in place (derived fields)."""

    # Derived from the template -------------------------------------------

    @classmethod
    def template(cls) -> dict[str, Any]:
        return _template(cls)  # type: ignore[arg-type]  # (a class is hashable)

    @classmethod
    def references(cls) -> dict[str, str]:
        """Top-level reference fields and the provider each points to."""
        return {
            name: value.provider for name, value in cls.template().items() if isinstance(value, Ref)
        }

    @classmethod
    def created_field(cls) -> str | None:
        """The field holding a document's creation time (what ``after: ref`` follows)."""
        if cls.created is not None:
            return cls.created
        return "created_at" if "created_at" in cls.template() else None

    @classmethod
    def fields(cls) -> list[FieldInfo]:
        return [FieldInfo(path, _describe(value)) for path, value in walk_specs(cls.template())]

    @classmethod
    def description(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    # Generation ------------------------------------------------------------

    def factory(
        self,
        runtime: Runtime,
        *,
        quantity: int,
        ref_counts: Mapping[str, int] | None = None,
    ) -> DocumentFactory:
        """Compile the template against ``runtime`` into ``build(index)``."""
        compiler = Compiler(runtime, provider=self.name, quantity=quantity, ref_counts=ref_counts)
        return self.factory_from(compiler)

    def factory_from(
        self, compiler: Compiler, template: Mapping[str, Any] | None = None
    ) -> DocumentFactory:
        """``build(index)`` of ``template`` (default: this provider's), then ``finalize``."""
        build = compiler.compile(self.template() if template is None else template)
        if type(self).finalize is DocumentProvider.finalize:
            return build
        finalize, rnd = self.finalize, compiler.rnd

        def build_and_finalize(index: int) -> Document:
            document = build(index)
            finalize(document, rnd)
            return document

        return build_and_finalize

    def rows_factory(
        self,
        runtime: Runtime,
        lineage: Lineage,
        *,
        entity: str | None = None,
        given: Callable[[int], Mapping[str, Any]] | None = None,
    ) -> RowsFactory:
        """``build_rows(start, stop)`` of ``entity`` (default: this provider) in ``lineage``.

        The columns (and the template, with a scenario's overrides) are the
        lineage's; ``given(i)`` are values row ``i`` keeps (a scenario's
        record); each row is finalized as it is built.
        """
        from datagen.columns import ColumnCompiler  # numpy: heavy, not for the CLI's start-up

        columns = lineage.columns(entity or self.name)
        compiler = ColumnCompiler(
            runtime, provider=self.name, quantity=1, key_namespace=columns.entity, columns=columns
        )
        finalize = None if type(self).finalize is DocumentProvider.finalize else self.finalize
        return compiler.compile_rows(columns.template, finalize, given)

    def generate(
        self,
        *,
        seed: int = 0,
        index: int = 0,
        quantity: int | None = None,
        locale: str = "en",
        reference_date: datetime = REFERENCE_DATE,
        ref_counts: Mapping[str, int] | None = None,
    ) -> Document:
        """Document ``index`` of a run of ``quantity`` (default ``index + 1``).

        The same document as ``generate.py document --seed SEED -q QUANTITY``
        writes at that index; a convenience for scripts and tests that builds
        the documents before it in its shard.
        """
        from datagen.lineage import DocumentsLineage  # numpy (as above)

        quantity = max(quantity or index + 1, index + 1)
        runtime = Runtime(locale=locale, run_seed=seed, reference_date=reference_date)
        lineage = DocumentsLineage(
            run_seed=seed,
            counts={**(ref_counts or {}), self.name: quantity},
            providers=get_provider,
            reference_date=reference_date,
            locale=locale,
        )
        build = self.rows_factory(runtime, lineage)
        shard = plan_shards(quantity=quantity, seed=seed, name=self.name)[index // SHARD_SIZE]
        runtime.reseed(shard.seed)
        return build(shard.start, index + 1)[-1]


@lru_cache(maxsize=None)
def _template(cls: type[DocumentProvider]) -> dict[str, Any]:
    template = cls().create_schema(FieldFactory())
    if not isinstance(template, dict):
        raise SchemaError("create_schema must return a dict", where=f"provider {cls.name!r}")
    if cls.key not in template:
        raise SchemaError(
            f"key field {cls.key!r} is not in the schema",
            where=f"provider {cls.name!r}",
            hint="set 'key' to one of the top-level fields",
        )
    return template


def _describe(value: Any) -> str:
    if isinstance(value, Key):
        return "key"
    if isinstance(value, Spec):
        return value.describe()
    if isinstance(value, list):
        return "list"
    return f"constant:{value!r}"


def get_provider(name: str) -> DocumentProvider:
    """An instance of the provider named ``name`` (unknown → lists the known)."""
    return registry.get(name)()
