"""New users submit a business licence; an officer of their province reviews it
within 5 working days; rejection allows resubmission (ID-5, ID-6)."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable

import grpc
import pytest
from google.type import date_pb2

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from tests.identity.conftest import NEW_PERSON_IDN, NEW_USCC, Harness, error_of

pytestmark = pytest.mark.integration

APPROVE = spb.ReviewLicenceRequest.DECISION_APPROVE
REJECT = spb.ReviewLicenceRequest.DECISION_REJECT


def refused(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as e:
        call()
    return error_of(e.value)


def submit_request(**kw: object) -> spb.SubmitLicenceRequest:
    fields: dict[str, object] = dict(
        licence_number="冀交运管许可石字130100001234号", issuing_authority="石家庄市交通运输局",
        valid_from=date_pb2.Date(year=2024, month=1, day=1),
        valid_until=date_pb2.Date(year=2028, month=12, day=31), document="documents/d-licence-1")
    fields.update(kw)
    return spb.SubmitLicenceRequest(**fields)  # type: ignore[arg-type]


def new_enterprise(h: Harness, uid: str = "sd-new") -> pb.Session:
    """A Shandong enterprise with no legacy account."""
    return h.sign_in_legal(uid=uid, uscc=NEW_USCC, name="山东新运输有限公司")


class TestSubmit:
    def test_new_user_submits_and_is_pending_with_a_due_date_ID_5(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        assert lic.name.startswith("licences/") and lic.state == pb.Licence.STATE_PENDING
        assert lic.party == s.me.party and lic.province == "370000"
        # Submitted Tuesday 2026-12-01: five working days later is Tuesday 2026-12-08.
        assert (lic.due_date.year, lic.due_date.month, lic.due_date.day) == (2026, 12, 8)
        assert not lic.due_date_provisional
        me = harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s))
        assert me.onboarding == pb.ONBOARDING_STATE_LICENCE_PENDING and me.licence == lic.name
        assert (me.licence_due_date.month, me.licence_due_date.day) == (12, 8)
        # A refreshed token carries the new state for the other services.
        r = harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=s.refresh_token))
        assert harness.claims(r)["onb"] == "LICENCE_PENDING"

    def test_due_date_skips_the_national_day_holiday_ID_5(self, harness: Harness) -> None:
        harness.clock.now = dt.datetime(2026, 9, 29, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 Beijing
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        # Sep 30, Oct 8, Oct 9, Oct 10 (make-up Saturday), Oct 12.
        assert (lic.due_date.month, lic.due_date.day) == (10, 12)
        assert not lic.due_date_provisional

    def test_due_date_in_a_year_without_calendar_data_is_flagged_ID_5(self, harness: Harness) -> None:
        harness.clock.now = dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        assert lic.due_date_provisional and (lic.due_date.year, lic.due_date.day) == (2027, 4)

    def test_an_entered_calendar_year_clears_the_flag_ID_5(self, harness: Harness) -> None:
        # The State Council's 2027 notice (for the test: Jan 1 off, no make-up day before Jan 4).
        harness.calendar.load_year(2027, holidays=[dt.date(2027, 1, 1)], workdays=[])
        harness.clock.now = dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        # Dec 29, 30, 31, (Jan 1 holiday), Jan 4, Jan 5.
        assert not lic.due_date_provisional and (lic.due_date.year, lic.due_date.day) == (2027, 5)

    def test_due_date_is_counted_on_weekdays_and_flagged_while_approval_is_down_ID_5(
            self, make_harness: Callable[..., Harness]) -> None:
        """Approval owns the calendar; when it does not answer, the licence is still
        accepted and its due date is the weekday count, shown as provisional."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        h = make_harness(APPROVAL_SERVICE_ADDR=f"127.0.0.1:{closed}", PERMIT_IDENTITY_CALENDAR_TIMEOUT="0.5")
        h.clock.now = dt.datetime(2026, 9, 29, 2, 0, tzinfo=dt.UTC)  # before the National Day week
        lic = h.stub.SubmitLicence(submit_request(), metadata=h.md(new_enterprise(h)))
        assert lic.state == pb.Licence.STATE_PENDING and lic.due_date_provisional
        # Sep 30, Oct 1, 2, 5, 6 by weekdays (approval's calendar would say Oct 12).
        assert (lic.due_date.month, lic.due_date.day) == (10, 6)

    def test_linked_legacy_user_needs_no_licence_ID_3_ID_5(self, harness: Harness) -> None:
        s = harness.sign_in_legal()
        assert refused(lambda: harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))) == (
            grpc.StatusCode.FAILED_PRECONDITION, "ONBOARDING_COMPLETE")

    def test_second_submission_while_pending_is_refused_ID_5(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        assert refused(lambda: harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))) == (
            grpc.StatusCode.FAILED_PRECONDITION, "LICENCE_REVIEW_PENDING")

    @pytest.mark.parametrize("change,reason", [
        ({"licence_number": " "}, "LICENCE_NUMBER_REQUIRED"),
        ({"issuing_authority": ""}, "ISSUING_AUTHORITY_REQUIRED"),
        ({"document": ""}, "DOCUMENT_REQUIRED"),
        ({"valid_until": date_pb2.Date(year=2023, month=1, day=1)}, "VALIDITY_INVERTED"),
        ({"valid_from": date_pb2.Date(year=2020, month=1, day=1),
          "valid_until": date_pb2.Date(year=2025, month=1, day=1)}, "LICENCE_EXPIRED"),
    ])
    def test_incomplete_licence_is_refused_with_its_field_ID_5(self, harness: Harness,
                                                                change: dict, reason: str) -> None:  # type: ignore[type-arg]
        s = new_enterprise(harness)
        code, got = refused(lambda: harness.stub.SubmitLicence(submit_request(**change), metadata=harness.md(s)))
        assert (code, got) == (grpc.StatusCode.INVALID_ARGUMENT, reason)

    def test_officer_cannot_submit_a_licence_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_officer("hebei-accept")
        assert refused(lambda: harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s)))[1] == "NOT_APPLICANT"


class TestReview:
    def test_approval_by_an_officer_of_the_province_activates_the_user_ID_5(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        officer = harness.sign_in_officer("shandong-licence")
        queue = harness.stub.ListLicenceReviews(spb.ListLicenceReviewsRequest(), metadata=harness.md(officer))
        assert [x.name for x in queue.licences] == [lic.name]
        assert queue.licences[0].party_display_name == "山东新运输有限公司"
        done = harness.stub.ReviewLicence(spb.ReviewLicenceRequest(name=lic.name, decision=APPROVE,
                                                                   etag=lic.etag),
                                          metadata=harness.md(officer))
        assert done.state == pb.Licence.STATE_APPROVED and done.reviewer == "officers/shandong-licence"
        r = harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=s.refresh_token))
        assert r.me.onboarding == pb.ONBOARDING_STATE_ACTIVE and harness.claims(r)["onb"] == "ACTIVE"
        # After approval the user enters directly on the next sign-in.
        assert new_enterprise(harness).me.onboarding == pb.ONBOARDING_STATE_ACTIVE

    def test_rejection_with_reason_then_resubmission_ID_5(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        officer = harness.sign_in_officer("shandong-licence")
        assert refused(lambda: harness.stub.ReviewLicence(
            spb.ReviewLicenceRequest(name=lic.name, decision=REJECT), metadata=harness.md(officer))) == (
            grpc.StatusCode.INVALID_ARGUMENT, "REASON_REQUIRED")
        rej = harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=REJECT, reason="许可证图片不清晰，请重新上传"), metadata=harness.md(officer))
        assert rej.state == pb.Licence.STATE_REJECTED
        me = harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s))
        assert me.onboarding == pb.ONBOARDING_STATE_LICENCE_REJECTED
        assert me.licence_rejection_reason == "许可证图片不清晰，请重新上传"
        again = harness.stub.SubmitLicence(submit_request(document="documents/d-licence-2"),
                                           metadata=harness.md(s))
        assert again.name != lic.name and again.state == pb.Licence.STATE_PENDING
        assert harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s)).licence == again.name
        assert refused(lambda: harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=APPROVE), metadata=harness.md(officer)))[1] == "LICENCE_NOT_PENDING"
        harness.stub.ReviewLicence(spb.ReviewLicenceRequest(name=again.name, decision=APPROVE),
                                   metadata=harness.md(officer))
        assert harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s)).onboarding == pb.ONBOARDING_STATE_ACTIVE

    def test_officer_of_another_province_cannot_review_or_see_ID_6(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        hebei = harness.sign_in_officer("hebei-accept")
        assert refused(lambda: harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=APPROVE), metadata=harness.md(hebei))) == (
            grpc.StatusCode.PERMISSION_DENIED, "OTHER_PROVINCE")
        assert refused(lambda: harness.stub.GetLicence(spb.GetLicenceRequest(name=lic.name),
                                                       metadata=harness.md(hebei)))[1] == "OTHER_PROVINCE"
        assert refused(lambda: harness.stub.ListLicenceReviews(spb.ListLicenceReviewsRequest(
            province="370000"), metadata=harness.md(hebei)))[1] == "OTHER_PROVINCE"
        assert harness.stub.ListLicenceReviews(spb.ListLicenceReviewsRequest(),
                                               metadata=harness.md(hebei)).licences == []

    def test_officer_without_the_licence_role_cannot_review_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="js", idn=NEW_PERSON_IDN)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        jiangsu = harness.sign_in_officer("jiangsu-review")
        assert refused(lambda: harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=APPROVE), metadata=harness.md(jiangsu)))[1] == "NOT_LICENCE_OFFICER"

    def test_applicant_cannot_review_or_read_another_partys_licence_ID_5(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        assert harness.stub.GetLicence(spb.GetLicenceRequest(name=lic.name), metadata=harness.md(s)) == lic
        other = harness.sign_in_person(uid="other")
        assert refused(lambda: harness.stub.GetLicence(spb.GetLicenceRequest(name=lic.name),
                                                       metadata=harness.md(other)))[1] == "LICENCE_NOT_FOUND"
        assert refused(lambda: harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=APPROVE), metadata=harness.md(s)))[1] == "NOT_LICENCE_OFFICER"

    def test_stale_etag_is_refused(self, harness: Harness) -> None:
        s = new_enterprise(harness)
        lic = harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s))
        officer = harness.sign_in_officer("shandong-licence")
        assert refused(lambda: harness.stub.ReviewLicence(spb.ReviewLicenceRequest(
            name=lic.name, decision=APPROVE, etag='W/"9"'), metadata=harness.md(officer))) == (
            grpc.StatusCode.ABORTED, "ETAG_MISMATCH")

    def test_queue_is_ordered_by_due_date_and_paged_ID_5(self, harness: Harness) -> None:
        names = []
        for i in range(3):
            s = harness.sign_in_legal(uid=f"q{i}", uscc=_uscc(i), name=f"山东{i}号公司")
            names.append(harness.stub.SubmitLicence(submit_request(), metadata=harness.md(s)).name)
            harness.clock.advance(days=1)
        officer = harness.sign_in_officer("shandong-licence")
        page1 = harness.stub.ListLicenceReviews(spb.ListLicenceReviewsRequest(page_size=2),
                                                metadata=harness.md(officer))
        page2 = harness.stub.ListLicenceReviews(spb.ListLicenceReviewsRequest(
            page_size=2, page_token=page1.next_page_token), metadata=harness.md(officer))
        assert [x.name for x in page1.licences] + [x.name for x in page2.licences] == names
        assert page2.next_page_token == ""


def _uscc(i: int) -> str:
    from permit_identity.identifiers import uscc_check_char

    body = f"91370100MA3C5LQ{i:02d}"
    return body + uscc_check_char(body)


class TestLicenceImage:
    """The image goes through the documents service (ID-5)."""

    def test_image_of_the_party_is_accepted_and_its_reviewers_get_access_ID_5(self, make_harness) -> None:  # type: ignore[no-untyped-def]
        h: Harness = make_harness(PERMIT_IDENTITY_VERIFY_DOCUMENTS="1")
        s = new_enterprise(h)
        h.documents.add("documents/img-1", owner=s.me.party)
        lic = h.stub.SubmitLicence(submit_request(document="documents/img-1"), metadata=h.md(s))
        assert h.app.relay.run_once() == 1
        assert h.documents.grants == [(lic.name, ["370000"], ["documents/img-1"], "services/identity")]
        assert h.app.relay.run_once() == 0

    def test_grant_survives_a_documents_outage_ID_5(self, make_harness) -> None:  # type: ignore[no-untyped-def]
        h: Harness = make_harness(PERMIT_IDENTITY_VERIFY_DOCUMENTS="1")
        s = new_enterprise(h)
        h.documents.add("documents/img-2", owner=s.me.party)
        h.documents.fail_grants = True
        lic = h.stub.SubmitLicence(submit_request(document="documents/img-2"), metadata=h.md(s))
        assert h.app.relay.run_once() == 0 and h.app.relay.pending() == 1
        h.documents.fail_grants = False
        import time

        deadline = time.monotonic() + 30
        while h.app.relay.run_once() == 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # the relay's own backoff before the retry
        assert [g[0] for g in h.documents.grants] == [lic.name]

    @pytest.mark.parametrize("owner,kind,reason", [
        ("other", "BUSINESS_LICENCE", "DOCUMENT_NOT_FOUND"),
        ("self", "ID_CARD_FRONT", "DOCUMENT_KIND_INVALID"),
        (None, "", "DOCUMENT_NOT_FOUND"),
    ])
    def test_foreign_missing_or_wrong_kind_image_is_refused_ID_5(self, make_harness, owner, kind,  # type: ignore[no-untyped-def]
                                                                 reason) -> None:
        h: Harness = make_harness(PERMIT_IDENTITY_VERIFY_DOCUMENTS="1")
        s = new_enterprise(h)
        if owner is not None:
            h.documents.add("documents/img-x", owner=s.me.party if owner == "self" else "parties/other",
                            kind=kind)
        assert refused(lambda: h.stub.SubmitLicence(submit_request(document="documents/img-x"),
                                                    metadata=h.md(s))) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        me = h.stub.GetMe(spb.GetMeRequest(), metadata=h.md(s))
        assert me.onboarding == pb.ONBOARDING_STATE_LICENCE_REQUIRED and me.licence == ""
