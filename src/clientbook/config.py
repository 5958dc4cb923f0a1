"""Settings, read from ``CLIENTBOOK_*`` environment variables, built on demand."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./clientbook.db"

#: Values that Segment, PostHog and common forms use for "no value": they never link customers.
DEFAULT_PLACEHOLDERS = (
    "",
    "null",
    "none",
    "nil",
    "undefined",
    "nan",
    "0",
    "-1",
    "true",
    "false",
    "anonymous",
    "guest",
    "unknown",
    "n/a",
    "na",
    "not set",
    "[object object]",
    "distinct_id",
    "id",
    "email",
    "test",
    "test@test.com",
    "test@example.com",
    "example@example.com",
    "email@example.com",
    "no@email.com",
    "noemail@noemail.com",
    "none@none.com",
    "null@null.com",
    "0000000000",
    "1234567890",
    "123456789",
    "00000000-0000-0000-0000-000000000000",
)


#: Cost to serve of one interaction per channel (currency units): automated channels are cheap.
DEFAULT_CHANNEL_COSTS = {
    "web": 0.05,
    "app": 0.05,
    "email": 0.02,
    "sms": 0.05,
    "social": 0.5,
    "chat": 1.5,
    "direct_mail": 1.2,
    "store": 4.0,
    "phone": 5.0,
    "call_centre": 6.0,
}

#: RFM segments over "R" + "FM" on a 1-5 scale (FM = mean of F and M, rounded up).
DEFAULT_RFM_SEGMENTS = {
    "5[4-5]": "Champions",
    "[3-4][4-5]": "Loyal",
    "[4-5][2-3]": "Potential loyalists",
    "51": "New",
    "41": "Promising",
    "33": "Need attention",
    "3[1-2]": "About to sleep",
    "[1-2][3-4]": "At risk",
    "[1-2]5": "Can't lose them",
    "2[1-2]|12": "Hibernating",
    "11": "Lost",
}

#: Lifecycle thresholds: purchase days to count as loyal; P(alive) and days since the last
#: purchase below/above which a buyer is lapsing or inactive.
DEFAULT_LIFECYCLE_RULES = {
    "loyal_min_purchases": 4,
    "lapsing_p_alive": 0.5,
    "lapsing_days": 180,
    "inactive_p_alive": 0.2,
    "inactive_days": 365,
}


class Settings(BaseSettings):
    """Everything configurable about Clientbook.

    Each field maps to ``CLIENTBOOK_<FIELD>`` (for example ``CLIENTBOOK_DATABASE_URL``).
    """

    model_config = SettingsConfigDict(env_prefix="CLIENTBOOK_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store.")
    default_region: str = Field(
        "GB", description="ISO country code assumed for phone numbers without a country prefix."
    )
    currency: str | None = Field(
        None,
        description="ISO 4217 code money is shown in (default: the currency most orders are "
        "in; EUR in a store without orders).",
        pattern="^[A-Z]{3}$",
    )
    host: str = Field("127.0.0.1", description="Address `clientbook serve` listens on.")
    port: int = Field(8000, description="Port `clientbook serve` listens on.")
    analytics_engine: str = Field(
        "duckdb",
        description="Default engine of `value analyse` and of Splink in `identity resolve`: "
        "duckdb or spark.",
    )
    spark_master: str = Field(
        "local[2]",
        description="Where `--engine spark` runs: local[N] on this machine, or a cluster's "
        "master URL (spark://host:7077, yarn, k8s://...).",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description='More Spark settings, a JSON object: {"spark.executor.memory": "8g", ...}.',
    )
    import_batch_size: int = Field(50_000, description="Rows written per batch by the importers.")
    identity_placeholders: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PLACEHOLDERS),
        description="Identifier values that never link anyone (compared case-insensitively, "
        "after trimming and unquoting; all-zero, all-dash and one-character-repeated values are "
        "refused as well). A JSON list.",
    )
    identity_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Per identifier type, how many distinct values one customer may hold "
        '(overrides the registry, e.g. {"email": 3}). A merge that would break it goes to review.',
    )
    identity_shared_limit: int = Field(
        10,
        description="A value held by this many customers (or records) or more stops linking "
        "and is reported as over-shared.",
    )
    identity_match_threshold: float = Field(
        0.99, description="Match probability at or above which two records merge automatically."
    )
    identity_review_threshold: float = Field(
        0.80, description="Match probability at or above which a pair goes to the review queue."
    )
    collect_process_interval: float = Field(
        0.5,
        description="Seconds the event processor of `clientbook serve` waits when no event is "
        "pending (0 turns it off; `clientbook events process` then does the work).",
    )
    collect_process_batch: int = Field(
        100, description="Events the processor applies per transaction."
    )
    collect_rate_limit: float = Field(
        1000.0,
        description="Collector requests per second allowed per write key and server process "
        "(a burst of one second's worth is allowed); over it the answer is 429 with "
        "Retry-After. 0 turns the limit off.",
    )

    value_model: str = Field(
        "bgnbd", description="Purchase model of `clientbook analyse`: bgnbd or pareto-nbd."
    )
    value_time_unit: str = Field("week", description="Time unit the models fit in: day or week.")
    value_horizon_months: int = Field(12, description="CLV horizon, in months.")
    value_discount_rate: float = Field(0.10, description="Yearly discount rate of the CLV.")
    value_default_margin_rate: float = Field(
        0.30, description="Margin rate assumed where no order of the base carries a cost."
    )
    value_channel_costs: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_CHANNEL_COSTS),
        description="Cost to serve of one interaction, per channel (a JSON object); channels "
        "missing here cost `value_other_channel_cost`.",
    )
    value_other_channel_cost: float = Field(1.0, description="Cost of an interaction elsewhere.")
    value_case_cost: float = Field(25.0, description="Cost to serve of one case (complaint).")
    value_rfm_bins: int = Field(5, description="Quantile bins of the R, F and M scores (2-10).")
    value_rfm_segments: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_RFM_SEGMENTS),
        description="Named RFM segments: a regular expression over the two digits R and FM "
        "(each on a 1-5 scale) -> segment name; the first match wins. A JSON object.",
    )
    value_lifecycle: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_LIFECYCLE_RULES),
        description="Thresholds of the lifecycle stages (see the README); a JSON object that "
        "overrides some of them.",
    )
    value_fit_sample: int = Field(
        200_000, description="Customers the models fit on (a random sample when there are more)."
    )

    def with_database(self, url: str | None) -> Settings:
        """Return a copy pointing at ``url`` (unchanged when ``url`` is None)."""
        return self if url is None else self.model_copy(update={"database_url": url})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
