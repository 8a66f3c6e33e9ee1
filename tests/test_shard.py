"""`scan --shard I/N`: stable shares of the sources for several machines or cron entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.localsite import LocalSite
from tests.state_helpers import Item, rss, scan, write_config

RSS = "application/rss+xml"


def _feeds(site: LocalSite, count: int) -> dict[str, str]:
    return {f"blog-{n}": site.add(f"/f{n}", rss([Item(f"Post {n}", f"Acme in post {n}", f"http://x.org/{n}")]),
                                  content_type=RSS) for n in range(count)}


def _sources_of(config: Path, shard: str) -> set[str]:
    result = scan(config, "--no-state", "--shard", shard)
    assert result.code == 0, result.stderr
    return {record["source"] for record in result.records}


def test_shards_split_the_sources_without_gaps_or_overlap(site: LocalSite, tmp_path: Path) -> None:
    names = _feeds(site, 12)
    config = write_config(tmp_path, names)
    shares = [_sources_of(config, f"{i}/3") for i in (1, 2, 3)]
    assert set().union(*shares) == set(names)
    assert sum(len(share) for share in shares) == len(names)
    assert all(shares), "12 sources in 3 shares: none should be empty"
    assert _sources_of(config, "1/1") == set(names)


def test_a_source_stays_in_its_shard_when_others_come_and_go(site: LocalSite, tmp_path: Path) -> None:
    names = _feeds(site, 12)
    before = _sources_of(write_config(tmp_path, names), "2/3")
    fewer = dict(reversed(list(names.items())[3:]))  # three sources gone, the rest reordered
    after = _sources_of(write_config(tmp_path, fewer), "2/3")
    assert after == before & set(fewer)


def test_shard_and_source_select_together(site: LocalSite, tmp_path: Path) -> None:
    names = _feeds(site, 12)
    config = write_config(tmp_path, names)
    first = sorted(_sources_of(config, "1/2"))[0]
    other = sorted(_sources_of(config, "2/2"))[0]
    result = scan(config, "--no-state", "--shard", "1/2", "--source", first, "--source", other)
    assert {record["source"] for record in result.records} == {first}


@pytest.mark.parametrize("value", ["0/3", "4/3", "1/0", "a/b", "2", "1/²", ""])
def test_a_bad_shard_is_a_usage_error(site: LocalSite, tmp_path: Path, value: str) -> None:
    config = write_config(tmp_path, _feeds(site, 2))
    result = scan(config, "--no-state", "--shard", value)
    assert result.code == 2
    assert "--shard: give I/N with 1 <= I <= N" in result.stderr
    assert result.records == []
    assert sum(site.requests.values()) == 0


def test_a_source_outside_the_shard_is_a_usage_error_not_a_silent_nothing(
    site: LocalSite, tmp_path: Path
) -> None:
    names = _feeds(site, 12)
    config = write_config(tmp_path, names)
    other = sorted(_sources_of(config, "2/2"))[0]
    requests = sum(site.requests.values())
    result = scan(config, "--no-state", "--shard", "1/2", "--source", other)
    assert result.code == 2
    assert f"--source names no source of share 1/2: {other!r}" in result.stderr
    assert sum(site.requests.values()) == requests


@pytest.mark.parametrize("flag", ["--all", "--dry-run"])
def test_seed_with_all_or_dry_run_is_a_usage_error(site: LocalSite, tmp_path: Path, flag: str) -> None:
    config = write_config(tmp_path, _feeds(site, 2))
    result = scan(config, "--seed", flag)
    assert result.code == 2
    assert f"--seed and {flag} contradict each other" in result.stderr
    assert sum(site.requests.values()) == 0


def test_state_with_no_state_is_a_usage_error(site: LocalSite, tmp_path: Path) -> None:
    """Both were accepted, and --state was silently ignored."""
    config = write_config(tmp_path, _feeds(site, 2))
    result = scan(config, "--no-state", "--state", str(tmp_path / "other.db"))
    assert result.code == 2
    assert "--state and --no-state contradict each other" in result.stderr
    assert sum(site.requests.values()) == 0 and not (tmp_path / "other.db").exists()
