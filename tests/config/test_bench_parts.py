"""`make bench` gives every part a database of its own (bench/__main__.py)."""

from bench.__main__ import PARTS, part_url


def test_each_part_gets_its_own_database_named_after_the_bench_database() -> None:
    base = "postgresql://postgres@127.0.0.1:5432/lotse_bench"

    urls = {name: part_url(base, name) for name in PARTS}

    assert urls["core"] == "postgresql://postgres@127.0.0.1:5432/lotse_bench_core"
    assert urls["load"] == "postgresql://postgres@127.0.0.1:5432/lotse_bench_load"
    assert len(set(urls.values())) == len(PARTS)


def test_query_options_stay_with_the_part_database() -> None:
    assert (
        part_url("postgres://u:p@db:5433/lotse?sslmode=require", "sweeps")
        == "postgres://u:p@db:5433/lotse_sweeps?sslmode=require"
    )
