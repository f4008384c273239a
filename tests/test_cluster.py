from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dedup.cluster import cluster, components
from dedup.records import Match


def m(a: int, b: int) -> Match:
    return Match(min(a, b), max(a, b), 0.9, 0.9, "jaccard")


def by_index(group: tuple[int, ...]) -> list[int]:
    return list(group)


def test_components_chain() -> None:
    assert components(6, [m(0, 1), m(1, 2), m(4, 5)]) == [(0, 1, 2), (4, 5)]


def test_star_does_not_chain() -> None:
    # 1 is the centre; 0 and 2 match only 1, 3 matches only 2.
    matches = [m(0, 1), m(1, 2), m(2, 3)]

    def centre_first(group: tuple[int, ...]) -> list[int]:
        return sorted(group, key=lambda i: (i != 1, i))

    assert cluster(4, matches, "star", centre_first) == [(0, 1, 2)]
    assert cluster(4, matches, "components", centre_first) == [(0, 1, 2, 3)]


def test_star_regroups_the_rest() -> None:
    matches = [m(0, 1), m(1, 2), m(2, 3), m(3, 4)]
    groups = cluster(5, matches, "star", by_index)
    assert groups == [(0, 1), (2, 3)]  # 4 is left alone: it matched only 3, already taken


pairs = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)).filter(lambda p: p[0] != p[1]), max_size=30)


@given(pairs, st.randoms(use_true_random=False))
def test_clusters_do_not_depend_on_match_order(edges: list[tuple[int, int]], rnd) -> None:  # type: ignore[no-untyped-def]
    matches = [m(a, b) for a, b in edges]
    shuffled = matches[:]
    rnd.shuffle(shuffled)
    for mode in ("star", "components"):
        assert cluster(12, matches, mode, by_index) == cluster(12, shuffled, mode, by_index)


@given(pairs)
def test_star_members_all_match_the_centre(edges: list[tuple[int, int]]) -> None:
    matches = [m(a, b) for a, b in edges]
    linked = {(x.a, x.b) for x in matches}
    for group in cluster(12, matches, "star", by_index):
        centre = group[0]  # by_index ranks the smallest index first
        assert all((min(centre, o), max(centre, o)) in linked for o in group[1:])
