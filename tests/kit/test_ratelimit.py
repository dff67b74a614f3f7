import pytest

from allot.kit.ratelimit import Buckets, parse_rate, retry_after_header


@pytest.mark.parametrize(
    ("spec", "per_second"),
    [("1000/s", 1000), ("600/min", 10), ("3600/hour", 1), ("2.5/s", 2.5), ("off", 0)],
)
def test_rates_read_as_requests_per_second(spec: str, per_second: float) -> None:
    assert parse_rate(spec) == per_second


@pytest.mark.parametrize("spec", ["fast", "10/fortnight", "/s", "-1/s"])
def test_a_bad_rate_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="is not like"):
        parse_rate(spec)


def test_a_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    buckets = Buckets(rate=10, burst=3)
    assert [buckets.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", now=0.0) == pytest.approx(0.1)
    assert buckets.take("k", now=0.1) == 0.0  # one token back after 1/10 s
    assert buckets.take("other", now=0.1) == 0.0  # keys do not share a bucket
    assert retry_after_header(0.1) == "1"


def test_no_limit_when_off() -> None:
    buckets = Buckets(rate=0, burst=1)
    assert all(buckets.take("k", now=0.0) == 0.0 for _ in range(10_000))
