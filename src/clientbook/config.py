"""Settings, read from ``CLIENTBOOK_*`` environment variables, built on demand."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./clientbook.db"


class Settings(BaseSettings):
    """Everything configurable about Clientbook.

    Each field maps to ``CLIENTBOOK_<FIELD>`` (for example ``CLIENTBOOK_DATABASE_URL``).
    """

    model_config = SettingsConfigDict(env_prefix="CLIENTBOOK_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store.")
    default_region: str = Field(
        "GB", description="ISO country code assumed for phone numbers without a country prefix."
    )
    host: str = Field("127.0.0.1", description="Address `clientbook serve` listens on.")
    port: int = Field(8000, description="Port `clientbook serve` listens on.")
    analytics_engine: str = Field(
        "duckdb", description="Default analytics engine: duckdb or spark."
    )
    import_batch_size: int = Field(50_000, description="Rows written per batch by the importers.")

    def with_database(self, url: str | None) -> Settings:
        """Return a copy pointing at ``url`` (unchanged when ``url`` is None)."""
        return self if url is None else self.model_copy(update={"database_url": url})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
