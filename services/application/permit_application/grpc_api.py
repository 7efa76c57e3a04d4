"""ApplicationServicer: proto <-> use-case arguments only (transport layer)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import empty_pb2

from permit.application.v1 import application_internal_pb2 as ipb
from permit.application.v1 import application_internal_pb2_grpc as ipb_grpc
from permit.application.v1 import application_pb2 as pb
from permit.application.v1 import application_service_pb2 as spb
from permit.application.v1 import application_service_pb2_grpc as spb_grpc
from permit.type.v1 import types_pb2
from permit_application import convert as cv
from permit_application import holds, notice
from permit_application import services as svc
from permit_application.dates import checked_date
from permit_application.errors import InvalidExport, NoticeNotRead, ServiceOnly
from permit_application.notice import NoticeSigner
from permit_application.services import DocumentChecker, RouteValidator, StepInput, UnitOfWork
from permitkit import legacy_sync
from permitkit.context import Principal, current_principal
from permitkit.db import utcnow
from permitkit.events import EventSink
from permitkit.server import ServiceSpec

SERVICE_NAME = spb.DESCRIPTOR.services_by_name["ApplicationService"].full_name
INTERNAL_SERVICE_NAME = ipb.DESCRIPTOR.services_by_name["ApplicationInternalService"].full_name


class ApplicationServicer(spb_grpc.ApplicationServiceServicer):
    """Every RPC of ApplicationService (applicants and peer services)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], *,
                 route_validator: RouteValidator | None = None,
                 document_checker: DocumentChecker | None = None,
                 clock: Callable[[], dt.datetime] = utcnow,
                 notices: NoticeSigner | None = None) -> None:
        self.uow = uow_factory
        self.notices = notices or NoticeSigner()
        self.route_validator = route_validator
        self.document_checker = document_checker
        self.clock = clock
        # The EventSinkService served next to this one (set by the composition root).
        self.event_sink: EventSink | None = None

    def _app(self, app: Any) -> pb.Application:
        return cv.application_to_pb(app, svc.materials_for(app, self.clock()))

    def GetPermitNotice(self, request: spb.GetPermitNoticeRequest, context: grpc.ServicerContext) -> pb.PermitNotice:
        p = svc.require_applicant(current_principal())
        n = self.notices.serve(party=svc.party_of(p), now=self.clock())
        return pb.PermitNotice(title=n.title, text=n.text, receipt=n.receipt, issue_time=cv.ts_to_pb(n.issue_time),
                               read_seconds=n.read_seconds)

    def CreateApplication(self, request: spb.CreateApplicationRequest, context: grpc.ServicerContext) -> pb.Application:
        # AP-1 by the server's clock: the time comes from the receipt; the phone's
        # notice_shown_time is accepted for old clients but never trusted.
        now, p = self.clock(), svc.require_applicant(current_principal())
        if not request.notice_receipt:
            raise NoticeNotRead("请先阅读许可须知（至少 5 秒）后再开始填报。", field="notice_receipt",
                                metadata={"required_seconds": str(notice.NOTICE_SECONDS)})
        shown = self.notices.shown_time(request.notice_receipt, party=svc.party_of(p))
        notice.check_read(shown, now)
        app = svc.create_application(self.uow(), now=now, principal=p, notice_shown_time=shown,
                                     request_id=request.request_id)
        return self._app(app)

    def GetApplication(self, request: spb.GetApplicationRequest, context: grpc.ServicerContext) -> pb.Application:
        return self._app(svc.get_application(self.uow(), principal=current_principal(), name=request.name))

    def ListApplications(self, request: spb.ListApplicationsRequest,
                         context: grpc.ServicerContext) -> spb.ListApplicationsResponse:
        page = svc.list_applications(self.uow(), principal=current_principal(), page_size=request.page_size,
                                     page_token=request.page_token, query=request.query,
                                     state=cv.state_from_pb(request.state))
        return spb.ListApplicationsResponse(applications=[self._app(a) for a in page.items],
                                            next_page_token=page.next_page_token, total_size=page.total)

    def UpdateApplication(self, request: spb.UpdateApplicationRequest, context: grpc.ServicerContext) -> pb.Application:
        steps = StepInput.from_mask(list(request.update_mask.paths), cv.step_values(request.application))
        app = svc.update_application(self.uow(), now=self.clock(), principal=current_principal(), name=request.application.name,
                                     etag=request.application.etag, steps=steps,
                                     route_validator=self.route_validator)
        return self._app(app)

    def SubmitApplication(self, request: spb.SubmitApplicationRequest, context: grpc.ServicerContext) -> pb.Application:
        steps = None
        if request.update_mask.paths:
            steps = StepInput.from_mask(list(request.update_mask.paths), cv.step_values(request.application))
        app = svc.submit_application(self.uow(), now=self.clock(), principal=current_principal(), name=request.name,
                                     etag=request.etag, request_id=request.request_id, steps=steps,
                                     route_validator=self.route_validator,
                                     document_checker=self.document_checker)
        return self._app(app)

    def DeleteApplication(self, request: spb.DeleteApplicationRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        svc.delete_application(self.uow(), now=self.clock(), principal=current_principal(), name=request.name, etag=request.etag)
        return empty_pb2.Empty()

    def CloneApplication(self, request: spb.CloneApplicationRequest, context: grpc.ServicerContext) -> pb.Application:
        return self._app(svc.clone_application(self.uow(), now=self.clock(), principal=current_principal(), name=request.name,
                                               request_id=request.request_id))

    def WithdrawApplication(self, request: spb.WithdrawApplicationRequest,
                            context: grpc.ServicerContext) -> pb.Application:
        return self._app(svc.withdraw_application(self.uow(), now=self.clock(), principal=current_principal(), name=request.name,
                                                  etag=request.etag, reason=request.reason))

    def SearchApplications(self, request: spb.SearchApplicationsRequest,
                           context: grpc.ServicerContext) -> spb.SearchApplicationsResponse:
        page = svc.search_applications(self.uow(), principal=current_principal(), query=request.query,
                                       page_size=request.page_size, page_token=request.page_token)
        return spb.SearchApplicationsResponse(applications=[self._app(a) for a in page.items],
                                              next_page_token=page.next_page_token)

    def ListStateChanges(self, request: spb.ListStateChangesRequest,
                         context: grpc.ServicerContext) -> spb.ListStateChangesResponse:
        page = svc.list_state_changes(self.uow(), principal=current_principal(), name=request.parent,
                                      page_size=request.page_size, page_token=request.page_token)
        return spb.ListStateChangesResponse(state_changes=[cv.state_change_to_pb(c) for c in page.items],
                                            next_page_token=page.next_page_token)

    def SuggestVehicles(self, request: spb.SuggestVehiclesRequest,
                        context: grpc.ServicerContext) -> spb.SuggestVehiclesResponse:
        page = svc.suggest_vehicles(self.uow(), principal=current_principal(), plate_prefix=request.plate_prefix,
                                    page_size=request.page_size, page_token=request.page_token)
        return spb.SuggestVehiclesResponse(vehicles=[cv.fleet_vehicle_to_pb(v) for v in page.items],
                                           next_page_token=page.next_page_token)

    def SuggestAgents(self, request: spb.SuggestAgentsRequest,
                      context: grpc.ServicerContext) -> spb.SuggestAgentsResponse:
        page = svc.suggest_agents(self.uow(), principal=current_principal(), name_prefix=request.name_prefix,
                                  page_size=request.page_size, page_token=request.page_token)
        return spb.SuggestAgentsResponse(agents=[cv.fleet_agent_to_pb(a) for a in page.items],
                                         next_page_token=page.next_page_token)

    def GetVehicle(self, request: spb.GetVehicleRequest, context: grpc.ServicerContext) -> pb.Vehicle:
        return cv.fleet_vehicle_to_pb(svc.get_vehicle(self.uow(), principal=current_principal(), name=request.name))

    def ValidatePlateNumber(self, request: spb.ValidatePlateNumberRequest,
                            context: grpc.ServicerContext) -> spb.ValidatePlateNumberResponse:
        c = svc.validate_plate_number(request.plate_number)
        return spb.ValidatePlateNumberResponse(valid=c.valid, normalized=c.normalized, plate_kind=c.kind,
                                               message=c.message)

    def CheckVehicleSchedule(self, request: spb.CheckVehicleScheduleRequest,
                             context: grpc.ServicerContext) -> spb.CheckVehicleScheduleResponse:
        conflicts = svc.check_vehicle_schedule(
            self.uow(), now=self.clock(), principal=current_principal(), name=request.name,
            start=checked_date(request.start_date, "start_date") if request.HasField("start_date") else None,
            end=checked_date(request.end_date, "end_date") if request.HasField("end_date") else None,
            plates=list(request.plate_numbers) or None)
        resp = spb.CheckVehicleScheduleResponse(ok=not conflicts, conflicts=[
            pb.VehicleConflict(plate_number=c.plate_number, applications=[a.name for a in c.applications],
                               application_numbers=[a.number for a in c.applications]) for c in conflicts])
        if conflicts:
            resp.message = svc.conflict_message(conflicts)
        return resp

    def ClassifyApplication(self, request: spb.ClassifyApplicationRequest,
                            context: grpc.ServicerContext) -> pb.Classification:
        return cv.verdict_to_pb(svc.classify_application(self.uow(), now=self.clock(), principal=current_principal(),
                                                         name=request.name))

    def GetRequiredMaterials(self, request: spb.GetRequiredMaterialsRequest,
                             context: grpc.ServicerContext) -> spb.GetRequiredMaterialsResponse:
        reqs = svc.get_required_materials(self.uow(), now=self.clock(), principal=current_principal(), name=request.name)
        return spb.GetRequiredMaterialsResponse(required=[cv.requirement_to_pb(r) for r in reqs],
                                                missing=[cv.requirement_to_pb(r) for r in reqs if r.missing])

    # ---- the PC side (PC-1) ------------------------------------------------------------

    def ListFleetVehicles(self, request: spb.ListFleetVehiclesRequest,
                          context: grpc.ServicerContext) -> spb.ListFleetVehiclesResponse:
        page = svc.list_fleet_vehicles(self.uow(), principal=current_principal(), show_retired=request.show_retired,
                                       page_size=request.page_size, page_token=request.page_token)
        return spb.ListFleetVehiclesResponse(vehicles=[cv.fleet_vehicle_to_pb(v) for v in page.items],
                                             next_page_token=page.next_page_token)

    def CreateFleetVehicle(self, request: spb.CreateFleetVehicleRequest, context: grpc.ServicerContext) -> pb.Vehicle:
        return cv.fleet_vehicle_to_pb(svc.create_fleet_vehicle(
            self.uow(), principal=current_principal(), vehicle=cv.vehicle_from_pb(request.vehicle),
            now=self.clock(), document_checker=self.document_checker))

    def UpdateFleetVehicle(self, request: spb.UpdateFleetVehicleRequest, context: grpc.ServicerContext) -> pb.Vehicle:
        return cv.fleet_vehicle_to_pb(svc.update_fleet_vehicle(
            self.uow(), principal=current_principal(), name=request.name, vehicle=cv.vehicle_from_pb(request.vehicle),
            update_mask=list(request.update_mask.paths), now=self.clock(), document_checker=self.document_checker))

    def RetireFleetVehicle(self, request: spb.RetireFleetVehicleRequest, context: grpc.ServicerContext) -> pb.Vehicle:
        return cv.fleet_vehicle_to_pb(svc.retire_fleet_vehicle(self.uow(), principal=current_principal(),
                                                               name=request.name, now=self.clock()))

    def ListFleetAgents(self, request: spb.ListFleetAgentsRequest,
                        context: grpc.ServicerContext) -> spb.ListFleetAgentsResponse:
        page = svc.list_fleet_agents(self.uow(), principal=current_principal(), show_retired=request.show_retired,
                                     page_size=request.page_size, page_token=request.page_token)
        return spb.ListFleetAgentsResponse(agents=[cv.fleet_agent_to_pb(a) for a in page.items],
                                           next_page_token=page.next_page_token)

    def CreateFleetAgent(self, request: spb.CreateFleetAgentRequest, context: grpc.ServicerContext) -> pb.Agent:
        return cv.fleet_agent_to_pb(svc.create_fleet_agent(
            self.uow(), principal=current_principal(), agent=cv.agent_from_pb(request.agent), now=self.clock(),
            document_checker=self.document_checker))

    def UpdateFleetAgent(self, request: spb.UpdateFleetAgentRequest, context: grpc.ServicerContext) -> pb.Agent:
        return cv.fleet_agent_to_pb(svc.update_fleet_agent(
            self.uow(), principal=current_principal(), name=request.name, agent=cv.agent_from_pb(request.agent),
            update_mask=list(request.update_mask.paths), now=self.clock(), document_checker=self.document_checker))

    def RetireFleetAgent(self, request: spb.RetireFleetAgentRequest, context: grpc.ServicerContext) -> pb.Agent:
        return cv.fleet_agent_to_pb(svc.retire_fleet_agent(self.uow(), principal=current_principal(),
                                                           name=request.name, now=self.clock()))


class ApplicationInternalServicer(ipb_grpc.ApplicationInternalServiceServicer):
    """ApplicationInternalService: what only peers and operators call (no HTTP route):
    the legacy import and the AP-6 holds of vehicle changes and extensions."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork],
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock

    def ReserveVehicleTime(self, request: ipb.ReserveVehicleTimeRequest,
                           context: grpc.ServicerContext) -> ipb.ReserveVehicleTimeResponse:
        holds.reserve_vehicle_time(
            self.uow(), now=self.clock(), principal=current_principal(), application=request.application,
            key=request.key, plates=list(request.plate_numbers),
            start=checked_date(request.start_date, "start_date") if request.HasField("start_date") else None,
            end=checked_date(request.end_date, "end_date") if request.HasField("end_date") else None)
        return ipb.ReserveVehicleTimeResponse()

    def ReleaseVehicleTime(self, request: ipb.ReleaseVehicleTimeRequest,
                           context: grpc.ServicerContext) -> ipb.ReleaseVehicleTimeResponse:
        return ipb.ReleaseVehicleTimeResponse(
            released=holds.release_vehicle_time(self.uow(), principal=current_principal(), key=request.key))

    def ImportLegacyRecords(self, request: spb.ImportLegacyRecordsRequest,
                            context: grpc.ServicerContext) -> spb.ImportLegacyRecordsResponse:
        principal, export = _legacy_export(request.export_json)
        c = svc.import_legacy_records(self.uow(), export=export, principal=principal)
        return spb.ImportLegacyRecordsResponse(parties=c.parties, vehicles=c.vehicles, agents=c.agents,
                                               applications=c.applications)

    def SyncLegacyRecords(self, request: ipb.SyncLegacyRecordsRequest,
                          context: grpc.ServicerContext) -> ipb.SyncLegacyRecordsResponse:
        principal, export = _legacy_export(request.export_json)
        outcomes = svc.sync_legacy_records(self.uow(), export=export, principal=principal, now=self.clock())
        return ipb.SyncLegacyRecordsResponse(outcomes=[
            legacy_sync.outcome_pb(o, types_pb2.LegacySyncOutcome, types_pb2.LegacySyncResult)
            for o in outcomes])


def service_specs(servicer: ApplicationServicer) -> list[ServiceSpec]:
    """The public service, the internal one and the event sink, for permitkit.server.build_server."""
    specs: list[ServiceSpec] = [
        (spb_grpc.add_ApplicationServiceServicer_to_server, servicer, SERVICE_NAME),
        (ipb_grpc.add_ApplicationInternalServiceServicer_to_server, ApplicationInternalServicer(servicer.uow, servicer.clock),
         INTERNAL_SERVICE_NAME)]
    if servicer.event_sink is not None:
        specs.append(servicer.event_sink.service_spec())
    return specs


def _legacy_export(export_json: bytes) -> tuple[Principal, Any]:
    """The caller (a service or an administrator only) and the PC export it sends (JSON)."""
    principal = current_principal()
    if principal is None or not (principal.is_service or principal.has_role("admin")):
        raise ServiceOnly()
    try:
        return principal, json.loads(export_json.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidExport(field="export_json") from None
