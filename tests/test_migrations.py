"""The migrations build exactly the schema the models describe, on whichever database runs the suite."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dsr.extensions import db


def test_models_and_migrations_agree(session):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask db migrate` to write a migration for these model changes"
