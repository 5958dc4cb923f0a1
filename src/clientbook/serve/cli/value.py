"""`clientbook analyse` and `clientbook clv`: value analytics from the command line."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from clientbook.analytics.engine import ENGINES
from clientbook.analytics.fitting import fit_from_store
from clientbook.analytics.refresh import analyse as run_analyse
from clientbook.errors import UsageError
from clientbook.serve.cli.common import DbOption, JsonOption, console, print_json, settings_for
from clientbook.store.db import require_schema

clv = typer.Typer(help="Customer lifetime value models.", no_args_is_help=True)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, not {value!r}.") from None


def analyse(
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb (default) or spark.", show_default=False),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score as of this date (default: today, UTC).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute RFM, CLV, P(alive), profitability and lifecycle stages; store the scores."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    if engine is not None and engine not in ENGINES:
        raise UsageError(f"Unknown engine {engine!r}.", hint="Use duckdb or spark.")
    report, _ = run_analyse(settings, engine=engine, as_of=_date(as_of, "--as-of"))
    if as_json:
        print_json(report.__dict__)
        return
    console.print(
        f"Scored {report.customers} customers ({report.buyers} buyers) as of {report.as_of} "
        f"on {report.engine} in {report.seconds:.1f} s; run {report.run_id}, "
        f"{report.changes} lifecycle changes."
    )
    purchase = report.models.get("purchase")
    if purchase:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in purchase["params"].items())
        console.print(f"{purchase['model']}: {shown}")
    table = Table("lifecycle stage", "customers")
    for stage, count in sorted(report.stages.items(), key=lambda kv: -kv[1]):
        table.add_row(stage, str(count))
    console.print(table)


@clv.command("fit")
def fit(
    model: Annotated[
        str, typer.Option("--model", help="bgnbd, pareto-nbd or gamma-gamma.")
    ] = "bgnbd",
    calibration_end: Annotated[
        str | None,
        typer.Option("--calibration-end", help="Last day of the calibration period (YYYY-MM-DD)."),
    ] = None,
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Last day of a holdout period, to validate on."),
    ] = None,
    time_unit: Annotated[str, typer.Option("--time-unit", help="day or week.")] = "week",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a model on the store's orders and print its parameters and log-likelihood."""
    settings = settings_for(db)
    require_schema(settings.database_url)
    end = _date(calibration_end, "--calibration-end") or datetime.now().date()
    result = fit_from_store(
        settings.database_url,
        model=model,
        calibration_end=end,
        holdout_end=_date(holdout_end, "--holdout-end"),
        time_unit=time_unit,
    )
    if as_json:
        print_json(result)
        return
    console.print(
        f"{model} on {result['fit_customers']} customers to {result['calibration_end']} "
        f"({time_unit}s): log-likelihood {result['log_likelihood']:.2f}"
    )
    for name, value in result["params"].items():
        console.print(f"  {name} = {value:.4f}")
    if "holdout" in result:
        h = result["holdout"]
        console.print(
            f"holdout to {h['holdout_end']}: predicted {h['predicted_total']:.0f} repeat "
            f"transactions, actual {h['actual_total']:.0f}"
        )


def register(app: typer.Typer) -> None:
    """Add these commands to the CLI."""
    app.command("analyse")(analyse)
    app.add_typer(clv, name="clv")
