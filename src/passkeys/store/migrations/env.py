"""Alembic environment: runs online against the engine passed in by store/migrate.py."""

from alembic import context

from passkeys.store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    context.run_migrations()
