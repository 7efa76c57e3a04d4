"""The shared offset paging of list RPCs (AIP-158), as every lookup and query list pages
with it (AP-4, AP-7, AP-8, PQ-2, RV-1, ID-5, ID-6): page sizes, and page tokens that
are refused when edited, reused with another scope or pointing absurdly far."""

from __future__ import annotations

import base64
import hashlib

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from permitkit import paging
from permitkit.errors import InvalidArgument
from permitkit.paging import InvalidPageSize, InvalidPageToken, PageRequest, scope_of

SCOPE = scope_of("expressways", "v1", "G4")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _fields(token: str) -> list[str]:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")


def tampered(token: str) -> list[str]:
    """Ways a client could alter a token it was given."""
    kind, offset, digest = _fields(token)
    return [
        token[:-1] + ("A" if token[-1] != "A" else "B"),    # one character changed
        token + "=",                                        # another spelling of the same bytes
        token[: len(token) // 2],                           # cut short
        "not a token!",                                     # not base64 at all
        _b64(f"{kind}:{int(offset) + 1}:{digest}"),         # another offset, old checksum
        _b64(f"{kind}:0{offset}:{digest}"),                 # the same offset spelt otherwise
        _b64(f"{kind}:-{offset}:{digest}"),                 # negative offset
        _b64(f"{kind}:{offset}"),                           # checksum dropped
        _b64(f"x:{offset}:{digest}"),                       # unknown kind
        _b64(f"{kind}:{'9' * 30}:{digest}"),                # absurd offset
        token * 3,                                          # far too long
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not text
    ]


class TestPageSize:
    def test_zero_means_the_default_and_more_than_the_cap_is_capped(self) -> None:
        assert paging.checked_page_size(0, default=7, maximum=9) == 7
        assert paging.checked_page_size(3, default=7, maximum=9) == 3
        assert paging.checked_page_size(9, default=7, maximum=9) == 9
        assert paging.checked_page_size(10_000, default=7, maximum=9) == 9

    def test_a_negative_size_means_the_default_unless_refused(self) -> None:
        assert paging.checked_page_size(-5, default=7, maximum=9) == 7

    def test_a_negative_size_is_refused_with_its_field_when_asked(self) -> None:
        with pytest.raises(InvalidPageSize) as e:
            paging.checked_page_size(-1, default=7, maximum=9, refuse_negative=True)
        assert (e.value.reason, e.value.field, e.value.code) == (
            "INVALID_PAGE_SIZE", "page_size", grpc.StatusCode.INVALID_ARGUMENT)
        assert paging.checked_page_size(0, default=7, maximum=9, refuse_negative=True) == 7


class TestPageToken:
    def test_a_token_gives_back_its_offset_for_its_own_scope(self) -> None:
        for offset in (0, 1, 40, paging.MAX_OFFSET):
            assert paging.decode_token(paging.encode_token(offset, SCOPE), SCOPE) == offset
        assert paging.decode_token("", SCOPE) == 0

    def test_the_token_does_not_show_the_offset_in_clear(self) -> None:
        assert "40" not in paging.encode_token(40, SCOPE)

    def test_the_refusal_is_an_invalid_argument_with_reason_message_and_field(self) -> None:
        with pytest.raises(InvalidArgument) as e:
            paging.decode_token("garbage", SCOPE)
        assert isinstance(e.value, InvalidPageToken)
        assert (e.value.reason, e.value.field, e.value.message) == (
            "INVALID_PAGE_TOKEN", "page_token", "分页标记无效，请从第一页重新查询。")
        assert [v.field for v in e.value.violations] == ["page_token"]

    def test_an_edited_token_is_refused(self) -> None:
        for bad in tampered(paging.encode_token(40, SCOPE)):
            with pytest.raises(InvalidPageToken):
                paging.decode_token(bad, SCOPE)

    def test_a_token_of_another_list_filter_or_party_is_refused(self) -> None:
        token = paging.encode_token(40, SCOPE)
        others = [scope_of("expressways", "v1", "G45"), scope_of("expressways", "v2", "G4"),
                  scope_of("provinces", "v1"), scope_of("expressways", "v1G4"), ""]
        for other in others:
            with pytest.raises(InvalidPageToken):
                paging.decode_token(token, other)

    def test_scope_parts_are_kept_apart(self) -> None:
        assert scope_of("a", "bc") != scope_of("ab", "c")

    def test_an_offset_past_the_bound_is_refused_even_with_a_right_checksum(self) -> None:
        offset = paging.MAX_OFFSET + 1
        checksum = hashlib.sha256(f"{offset}\x1f{SCOPE}".encode()).hexdigest()[:16]
        with pytest.raises(InvalidPageToken):
            paging.decode_token(_b64(f"o:{offset}:{checksum}"), SCOPE)
        with pytest.raises(ValueError):
            paging.encode_token(offset, SCOPE)

    @given(st.text(max_size=80))
    def test_any_text_is_refused_unless_it_is_the_token_of_its_offset(self, text: str) -> None:
        try:
            offset = paging.decode_token(text, SCOPE)
        except InvalidPageToken:
            return
        assert text == "" or paging.encode_token(offset, SCOPE) == text

    @given(st.integers(min_value=0, max_value=paging.MAX_OFFSET), st.text(max_size=30))
    def test_every_offset_round_trips_in_any_scope(self, offset: int, scope: str) -> None:
        assert paging.decode_token(paging.encode_token(offset, scope), scope) == offset


class TestPageRequest:
    @staticmethod
    def request(page_size: int = 0, page_token: str = "", scope: str = SCOPE) -> PageRequest:
        return PageRequest.of(page_size=page_size, page_token=page_token, scope=scope, default=3, maximum=5)

    def test_the_first_page_starts_at_zero_with_the_default_size(self) -> None:
        req = self.request()
        assert (req.offset, req.size, req.limit) == (0, 3, 4)

    def test_a_bad_size_or_token_is_refused_by_the_request(self) -> None:
        with pytest.raises(InvalidPageToken):
            self.request(page_token="garbage")
        with pytest.raises(InvalidPageSize):
            PageRequest.of(page_size=-1, page_token="", scope=SCOPE, default=3, maximum=5, refuse_negative=True)

    def test_pages_cut_from_fetched_rows_follow_one_another_to_the_last(self) -> None:
        rows = list(range(8))
        seen: list[int] = []
        token, pages = "", 0
        while True:
            req = self.request(page_token=token)
            page = req.cut(rows[req.offset:req.offset + req.limit])
            seen += page.items
            pages += 1
            token = page.next_page_token
            if not token:
                break
        assert seen == rows and pages == 3

    def test_a_full_last_page_has_no_token(self) -> None:
        page = self.request().cut([1, 2, 3])
        assert page.items == [1, 2, 3] and page.next_page_token == ""

    def test_a_window_of_a_list_in_memory(self) -> None:
        items = list(range(7))
        first = self.request(page_size=5).window(items)
        assert first.items == [0, 1, 2, 3, 4] and first.next_page_token
        rest = self.request(page_size=5, page_token=first.next_page_token).window(items)
        assert rest.items == [5, 6] and rest.next_page_token == ""

    def test_a_counted_page_carries_its_total(self) -> None:
        first = self.request().counted([0, 1, 2], total=4)
        assert first.total == 4 and first.next_page_token
        last = self.request(page_token=first.next_page_token).counted([3], total=4)
        assert last.total == 4 and last.next_page_token == ""

    def test_a_next_token_pages_only_its_own_scope(self) -> None:
        token = self.request().cut([0, 1, 2, 3]).next_page_token
        assert self.request(page_token=token).offset == 3
        with pytest.raises(InvalidPageToken):
            self.request(page_token=token, scope=scope_of("expressways", "v1", "G5"))
