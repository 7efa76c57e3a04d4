"""Domain errors of the approval context: stable reason codes, Chinese messages, offending fields."""

from __future__ import annotations

# The caller checks every service shares: one reason per refusal kind.
from permitkit.access import NotAdmin as NotAdmin
from permitkit.access import NotService as NotService
from permitkit.access import OtherProvince as OtherProvince
from permitkit.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

DOMAIN = "permit.approval"


# -- permission -------------------------------------------------------------------------------


class NotOfficer(PermissionDenied):
    reason = "NOT_OFFICER"
    message = "仅限审批人员操作。"




class NotApplicant(PermissionDenied):
    reason = "NOT_APPLICANT"
    message = "只能查看或办理本单位（本人）的许可申请。"


# -- not found --------------------------------------------------------------------------------

class CaseNotFound(NotFound):
    reason = "CASE_NOT_FOUND"
    message = "未找到该审批案件。"


class ReviewNotFound(NotFound):
    reason = "REVIEW_NOT_FOUND"
    message = "该省份不在此申请的途经省份中。"


class PermitNotFound(NotFound):
    reason = "PERMIT_NOT_FOUND"
    message = "未找到该许可证。"


class ExtensionNotFound(NotFound):
    reason = "EXTENSION_NOT_FOUND"
    message = "未找到该延期申请。"


class VehicleChangeNotFound(NotFound):
    reason = "VEHICLE_CHANGE_NOT_FOUND"
    message = "未找到该车辆变更申请。"


class VehicleNotFound(NotFound):
    reason = "VEHICLE_NOT_FOUND"
    message = "未找到该车辆，请先在电脑端维护车辆信息。"


# -- invalid argument -------------------------------------------------------------------------

class FieldRequired(InvalidArgument):
    """A required request field is empty; ``reason`` names it (``REASON_REQUIRED``)."""

    reason = "FIELD_REQUIRED"
    message = "必填项不能为空。"


class QueryTooLong(InvalidArgument):
    reason = "QUERY_TOO_LONG"
    message = "搜索内容不能超过 64 个字符。"


class NameInvalid(InvalidArgument):
    reason = "NAME_INVALID"
    message = "资源名称格式不正确。"


class PermitClassInvalid(InvalidArgument):
    reason = "PERMIT_CLASS_INVALID"
    message = "许可类别必须为一类、二类或三类。"


class OriginNotOnRoute(InvalidArgument):
    reason = "ORIGIN_NOT_ON_ROUTE"
    message = "途经省份必须以起运地省份开始。"


class SuggestedRouteInvalid(InvalidArgument):
    reason = "SUGGESTED_ROUTE_INVALID"
    message = "建议路线无效：只能调整本省路段，每行须填写道路，且调整后的路线须能通行。"


class PlateNotOnCase(InvalidArgument):
    reason = "PLATE_NOT_ON_CASE"
    message = "要变更的车辆不在此申请中。"


class NewEndDateInvalid(InvalidArgument):
    reason = "NEW_END_DATE_INVALID"
    message = "延期截止日期必须晚于许可证当前截止日期。"


class MultiTripTooLong(InvalidArgument):
    reason = "MULTI_TRIP_TOO_LONG"
    message = "多次通行许可有效期最长不超过6个月。"


class ProvinceNotOnRoute(InvalidArgument):
    reason = "PROVINCE_NOT_ON_ROUTE"
    message = "所选省份不在许可路线上。"


class DocumentReferenceInvalid(InvalidArgument):
    """A named document is absent or another party's; the answer does not say which."""

    reason = "DOCUMENT_REFERENCE_INVALID"
    message = "未找到所选材料，请重新上传。"


class DocumentKindMismatch(InvalidArgument):
    reason = "DOCUMENT_KIND_MISMATCH"
    message = "所选材料类型与所需材料不符，请重新上传。"


class SameVehicle(InvalidArgument):
    reason = "SAME_VEHICLE"
    message = "变更后的车辆与原车辆相同，请选择另一辆车。"


class VehicleAlreadyOnCase(InvalidArgument):
    reason = "VEHICLE_ALREADY_ON_CASE"
    message = "所选车辆已在此申请中，请选择另一辆车。"


class YearInvalid(InvalidArgument):
    reason = "YEAR_INVALID"
    message = "年份格式不正确。"


class DateOutsideYear(InvalidArgument):
    reason = "DATE_OUTSIDE_YEAR"
    message = "日期不属于该年份。"


# -- failed precondition ----------------------------------------------------------------------

class CaseNotAwaitingAcceptance(FailedPrecondition):
    reason = "CASE_NOT_AWAITING_ACCEPTANCE"
    message = "该申请当前不处于待受理状态。"


class CaseNotUnderReview(FailedPrecondition):
    reason = "CASE_NOT_UNDER_REVIEW"
    message = "该申请当前不处于审批中状态。"


class CaseNotReadyToIssue(FailedPrecondition):
    reason = "CASE_NOT_READY_TO_ISSUE"
    message = "途经省份尚未全部审批通过，不能发证。"


class CaseNotCancellable(FailedPrecondition):
    reason = "CASE_NOT_CANCELLABLE"
    message = "该申请当前状态不能撤销。"


class CaseNotReopenable(FailedPrecondition):
    reason = "CASE_NOT_REOPENABLE"
    message = "该申请未被退回补正，不能重新提交。"


class ReviewNotPending(FailedPrecondition):
    reason = "REVIEW_NOT_PENDING"
    message = "该省份的审批已完成，不能重复审批。"


class ReviewAlreadySuspended(FailedPrecondition):
    reason = "REVIEW_ALREADY_SUSPENDED"
    message = "该审批已中止计时。"


class ReviewNotSuspended(FailedPrecondition):
    reason = "REVIEW_NOT_SUSPENDED"
    message = "该审批未中止计时。"


class ReviewClaimedByOther(FailedPrecondition):
    reason = "REVIEW_CLAIMED_BY_OTHER"
    message = "该审批已由其他审批人员领取。"


class ReviewNotClaimedByCaller(FailedPrecondition):
    reason = "REVIEW_NOT_CLAIMED_BY_CALLER"
    message = "您未领取该审批。"


class NoAdjustmentProposed(FailedPrecondition):
    reason = "NO_ADJUSTMENT_PROPOSED"
    message = "该省份未提出路线调整建议。"


class EscortPlanRequired(InvalidArgument):
    reason = "ESCORT_PLAN_REQUIRED"
    message = "三类大件调整路线时须重新上传修改完善后的护送方案。"


class VehicleNotEquivalent(FailedPrecondition):
    reason = "VEHICLE_NOT_EQUIVALENT"
    message = "变更车辆的整备质量、轴数、轴距、轮胎数须与原车辆完全一致。"


class VehicleNotInFleet(FailedPrecondition):
    reason = "VEHICLE_NOT_IN_FLEET"
    message = "只能选择电脑端维护过的车辆，如无可选车辆请到电脑端维护车辆信息。"


class VehicleSpecUnknown(FailedPrecondition):
    reason = "VEHICLE_SPEC_UNKNOWN"
    message = "原车辆参数未知，无法办理车辆变更。"


class VehicleChangePending(FailedPrecondition):
    reason = "VEHICLE_CHANGE_PENDING"
    message = "已有待审批的车辆变更申请。"


class VehicleChangeNotPending(FailedPrecondition):
    reason = "VEHICLE_CHANGE_NOT_PENDING"
    message = "该车辆变更申请已处理。"


class PermitNotActive(FailedPrecondition):
    reason = "PERMIT_NOT_ACTIVE"
    message = "许可证已废止或已过期。"


class ExtensionPending(FailedPrecondition):
    reason = "EXTENSION_PENDING"
    message = "已有待审批的延期申请。"


class ExtensionNotPending(FailedPrecondition):
    reason = "EXTENSION_NOT_PENDING"
    message = "该延期申请已处理。"


class ProvinceAlreadyDecided(FailedPrecondition):
    reason = "PROVINCE_ALREADY_DECIDED"
    message = "本省已对该延期申请作出决定。"


# -- aborted ----------------------------------------------------------------------------------

class EtagMismatch(Aborted):
    reason = "ETAG_MISMATCH"
    message = "数据已被他人修改，请刷新后重试。"


class ConcurrentUpdate(Aborted):
    reason = "CONCURRENT_UPDATE"
    message = "数据正在被他人修改，请稍后重试。"


def required(field: str, message: str) -> FieldRequired:
    """``FieldRequired`` for ``field`` with reason ``<FIELD>_REQUIRED``."""
    return FieldRequired(message, reason=f"{field.upper()}_REQUIRED", field=field)
