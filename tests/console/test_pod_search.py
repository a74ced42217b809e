"""PodSearch: the `/` filter's matches with what keystrokes share kept -- always the same
pods, in the same order, as a plain scan of every pod."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.kube_views import PodView
from console.domain.pod_index import PodIndex
from console.domain.pod_search import PodSearch, plain_text
from console.domain.row_filter import RowFilter, pod_words


def pod(name: str, status: str = "Running", node: str = "node-a") -> PodView:
    return PodView(name=name, namespace="shop", ready="1/1", status=status, restarts=0,
                   age="1m", node=node, deployment=name.rsplit("-", 1)[0])


def scanned(index: PodIndex, text: str, reverse: bool = False) -> list[str]:
    """What the search must find: every pod the filter keeps, sorted by (name, key)."""
    wanted = RowFilter.parse(text)
    keys = sorted((p.name, p.key) for p in index.values() if wanted.keeps(pod_words(p)))
    found = [key for _, key in keys]
    return found[::-1] if reverse else found


def many() -> PodIndex:
    index = PodIndex()
    for i in (7, 3, 12, 0, 25, 1):  # not in name order
        index.upsert(pod(f"api-{i:02d}"))
        index.upsert(pod(f"web-{i:02d}", node="node-b"))
    return index


def keys(found: list[PodView]) -> list[str]:
    return [p.key for p in found]


@pytest.mark.parametrize("text", ["api", "API-0", "!api", "node-b", "^shop/web-(0|1)",
                                  "running", "!", "zzz", "web-2"])
@pytest.mark.parametrize("reverse", [False, True])
def test_matches_are_a_plain_scan_in_name_order(text: str, reverse: bool) -> None:
    index = many()
    found = PodSearch().find(index, RowFilter.parse(text), limit=100, reverse=reverse)
    assert keys(found.first) == scanned(index, text, reverse)
    assert found.matched == len(scanned(index, text))


def test_limit_takes_the_first_in_order_and_counts_them_all() -> None:
    index = many()
    found = PodSearch().find(index, RowFilter.parse("shop"), limit=3)
    assert keys(found.first) == ["shop/api-00", "shop/api-01", "shop/api-03"]
    assert found.matched == 12
    last = PodSearch().find(index, RowFilter.parse("shop"), limit=2, reverse=True)
    assert keys(last.first) == ["shop/web-25", "shop/web-12"]


def test_typing_further_narrows_and_deleting_widens_again() -> None:
    index, search = many(), PodSearch()
    for text in ("w", "we", "web", "web-", "web-1", "web-12", "web-1", "web-", "w", ""):
        if not text:
            break
        found = search.find(index, RowFilter.parse(text), limit=100)
        assert keys(found.first) == scanned(index, text), text


def test_a_pod_that_changed_between_keystrokes_is_searched_again() -> None:
    """Narrowing from the last matches holds only while no pod changed: a pod that now
    matches the longer text (its status changed) must be found."""
    index, search = many(), PodSearch()
    assert search.find(index, RowFilter.parse("crash"), limit=100).matched == 0
    index.upsert(replace(index["shop/api-07"], status="CrashLoopBackOff"))
    found = search.find(index, RowFilter.parse("crashloop"), limit=100)
    assert keys(found.first) == ["shop/api-07"]


def test_pods_that_came_and_went_are_in_the_name_order() -> None:
    index, search = many(), PodSearch()
    search.prepare(index)
    index.delete("shop/api-03")
    index.upsert(pod("api-02"))
    found = search.find(index, RowFilter.parse("api"), limit=100)
    assert keys(found.first) == scanned(index, "api")
    assert "shop/api-03" not in keys(found.first) and "shop/api-02" in keys(found.first)


def test_a_new_index_is_searched_not_the_old_one() -> None:
    """A reconnect replaces the console's PodIndex: nothing of the old one is used."""
    search = PodSearch()
    search.find(many(), RowFilter.parse("api"), limit=100)
    fresh = PodIndex()
    fresh.upsert(pod("api-99"))
    assert keys(search.find(fresh, RowFilter.parse("api-"), limit=100).first) == [
        "shop/api-99"]


def test_only_plain_typed_text_narrows() -> None:
    assert plain_text(RowFilter.parse("Bulk-7")) == "bulk-7"
    for text in ("!bulk", "bulk.*", "a|b", "(x)", ""):
        assert plain_text(RowFilter.parse(text)) is None, text
