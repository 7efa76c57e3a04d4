"""Domain errors of the application context: stable reasons, Chinese messages."""

from __future__ import annotations

from permitkit.access import NotService
from permitkit.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

DOMAIN = "permit.application"

# Not a peer service: the one refusal every service gives (NOT_SERVICE).
ServiceOnly = NotService


class ApplicationNotFound(NotFound):
    reason = "APPLICATION_NOT_FOUND"
    message = "未找到该申请。"


class VehicleNotFound(NotFound):
    reason = "VEHICLE_NOT_FOUND"
    message = "未找到该车辆。"


class NotApplicant(PermissionDenied):
    reason = "NOT_APPLICANT"
    message = "仅申请人可以进行此操作。"



class LicenceRequired(FailedPrecondition):
    reason = "LICENCE_REQUIRED"
    message = "请先提交道路运输经营许可证，审核通过后方可办理。"


class LicenceReviewPending(FailedPrecondition):
    reason = "LICENCE_REVIEW_PENDING"
    message = "您提交的道路运输经营许可证正在审核中（5 个工作日内完成），审核通过后方可办理。"


class LicenceRejected(FailedPrecondition):
    reason = "LICENCE_REJECTED"
    message = "您提交的道路运输经营许可证未通过审核，请重新提交。"


class NoticeNotRead(FailedPrecondition):
    reason = "NOTICE_NOT_READ"
    message = "请阅读许可须知至少 5 秒后再开始填报。"


class ApplicationNotOccupying(FailedPrecondition):
    reason = "APPLICATION_NOT_ACTIVE"
    message = "该申请已撤销、不予许可或许可已失效，不能变更车辆或延期。"


class NoticeReceiptInvalid(FailedPrecondition):
    reason = "NOTICE_RECEIPT_INVALID"
    message = "许可须知的阅读凭证无效，请重新打开许可须知。"


class InvalidField(InvalidArgument):
    reason = "INVALID_FIELD"
    message = "填写内容有误，请按提示修改。"


class InvalidUpdateMask(InvalidArgument):
    reason = "INVALID_UPDATE_MASK"
    message = "请指定要保存的步骤：cargo、vehicles、overall、passage、agent、materials。"


class QueryRequired(InvalidArgument):
    reason = "QUERY_REQUIRED"
    message = "请输入申请单号或车牌号码。"


class InvalidEvent(InvalidArgument):
    reason = "INVALID_EVENT"
    message = "审批事件内容不完整。"


class InvalidExport(InvalidArgument):
    reason = "INVALID_EXPORT"
    message = "历史数据文件格式不正确。"


class EtagMismatch(Aborted):
    reason = "ETAG_MISMATCH"
    message = "申请已在别处被修改，请刷新后重试。"


class ApplicationNotDraft(FailedPrecondition):
    reason = "APPLICATION_NOT_DRAFT"
    message = "只有未提交的申请可以修改或删除。"


class CorrectionSubmitOnly(FailedPrecondition):
    reason = "CORRECTION_SUBMIT_ONLY"
    message = "退回补正的申请修改后只能提交，不能保存。"


class ApplicationNotSubmittable(FailedPrecondition):
    reason = "APPLICATION_NOT_SUBMITTABLE"
    message = "该申请当前状态不能提交。"


class ApplicationIncomplete(FailedPrecondition):
    reason = "APPLICATION_INCOMPLETE"
    message = "申请信息尚未填写完整。"


class NotOverLimit(FailedPrecondition):
    reason = "NOT_OVER_LIMIT"
    message = "车货总体未超限，无需办理大件运输许可。"


class OverLimitRefused(FailedPrecondition):
    reason = "OVER_LIMIT_REFUSED"
    message = "车货总体轴荷超过规定，不予许可。"


class MaterialsMissing(FailedPrecondition):
    reason = "MATERIALS_MISSING"
    message = "还缺少以下材料，请上传后再提交。"


class VehicleTimeConflict(FailedPrecondition):
    reason = "VEHICLE_TIME_CONFLICT"
    message = "所选时间内该车辆已有两件申请，时间发生冲突。请更换车辆，或撤回/废止相关申请后重新申请。"


class ApplicationNotWithdrawable(FailedPrecondition):
    reason = "APPLICATION_NOT_WITHDRAWABLE"
    message = "只有未受理或处理中的申请可以撤销。"


class InvalidTransition(FailedPrecondition):
    reason = "INVALID_TRANSITION"
    message = "申请当前状态不允许此变更。"


class OverallMissing(FailedPrecondition):
    reason = "OVERALL_MISSING"
    message = "请先填写车辆和车货总体信息。"


class AgentNotFound(NotFound):
    reason = "AGENT_NOT_FOUND"
    message = "未找到该经办人。"


class VehicleExists(AlreadyExists):
    reason = "VEHICLE_EXISTS"
    message = "该车牌号码的车辆已在维护中，请直接修改。"


class AgentExists(AlreadyExists):
    reason = "AGENT_EXISTS"
    message = "该身份证号码的经办人已在维护中，请直接修改。"


class VehicleRetired(FailedPrecondition):
    reason = "VEHICLE_RETIRED"
    message = "该车辆已停用，不能修改；如需继续使用请重新添加。"


class AgentRetired(FailedPrecondition):
    reason = "AGENT_RETIRED"
    message = "该经办人已停用，不能修改；如需继续使用请重新添加。"
