"""`portal bench-seed`: the reference data set for `make bench`."""

import click


@click.command("bench-seed")
def bench_seed() -> None:
    """Load the reference data set for benchmarks."""
    raise click.ClickException("the reference data set is not written yet")
