"""The every-page benchmark (bench/every_page.py) reaches every page of the scoping matrix.

The benchmark walks the URL conf itself; for a URL naming an object it needs to know which
seeded object to ask about. A URL added to tests/scoping_cases.py without its finder in the
benchmark's catalogue would be silently left out of the table: this fails instead.
"""

from bench import every_page
from tests.scoping_cases import CASES, SIGNED_IN, Scoped


def test_it_knows_the_object_of_every_scoped_url():
    missing = [
        n for n, c in CASES.items() if isinstance(c, Scoped) and n not in every_page.URL_OBJECTS
    ]
    assert not missing, f"Name the seeded object of these URLs in bench/every_page.py: {missing}"
    stale = [n for n in every_page.URL_OBJECTS if not isinstance(CASES.get(n), Scoped)]
    assert not stale, f"bench/every_page.py names URLs the matrix does not scope: {stale}"


def test_every_object_it_names_has_a_finder():
    assert set(every_page.URL_OBJECTS.values()) <= set(every_page.FINDERS)


def test_it_walks_every_signed_in_page_and_the_exports(db):
    names = set(every_page.url_names())
    assert {n for n, c in CASES.items() if c == SIGNED_IN} <= names
    assert {n for n, _q in every_page.EXPORTS} <= names


def test_a_fast_page_is_timed_with_more_requests_a_slow_one_with_fewer():
    per_turn = every_page.requests_per_turn
    assert per_turn([5.0, 4.0]) == every_page.MAX_PER_TURN  # 13 of 125 ms at most
    assert per_turn([8.0, 25.0]) == 5  # the slower size sets the count for both
    assert per_turn([100.0]) == 3  # never fewer than three
    assert per_turn([1500.0]) == 1  # over a second: one a turn


def test_a_size_keeps_its_quietest_turn():
    # A slow stretch of the machine in one turn does not move the figure.
    assert every_page.quietest_turn([[10.0, 11.0, 12.0], [30.0, 31.0, 29.0], [10.5]]) == 10.5
