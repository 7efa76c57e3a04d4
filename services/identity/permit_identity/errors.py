"""Identity domain errors: a stable reason code, a Chinese message, the offending field."""

from __future__ import annotations

# The caller checks every service shares: one reason per refusal kind.
from permitkit.access import NotAdmin as NotAdmin
from permitkit.access import NotService as NotService
from permitkit.access import NotSignedIn as NotSignedIn
from permitkit.access import OtherProvince as OtherProvince
from permitkit.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

DOMAIN = "permit.identity"


# --- sign-in (ID-1, ID-2) ---------------------------------------------------
class ChannelRequired(InvalidArgument):
    reason = "CHANNEL_REQUIRED"
    message = "请选择登录渠道。"


class TicketRequired(InvalidArgument):
    reason = "TICKET_REQUIRED"
    message = "缺少登录凭据，请重新登录。"


class TicketInvalid(Unauthenticated):
    reason = "TICKET_INVALID"
    message = "登录凭据无效，请重新登录。"


class TicketExpired(Unauthenticated):
    reason = "TICKET_EXPIRED"
    message = "登录凭据已过期，请重新登录。"


class TicketReplayed(Unauthenticated):
    reason = "TICKET_REPLAYED"
    message = "登录凭据已使用过，请重新登录。"


class TicketChannelMismatch(Unauthenticated):
    reason = "TICKET_CHANNEL_MISMATCH"
    message = "登录凭据与登录渠道不符，请从原入口重新登录。"


class ChannelPersonOnly(FailedPrecondition):
    reason = "CHANNEL_PERSON_ONLY"
    message = "支付宝、微信小程序仅支持个人用户登录，法人用户请使用国家政务服务平台APP登录。"


class MinistryPortalAccount(FailedPrecondition):
    reason = "MINISTRY_PORTAL_ACCOUNT"
    message = ("交通运输部政务服务平台注册的账号无法登录，请在国家政务服务平台重新注册账号后登录。")


class InvalidUscc(InvalidArgument):
    reason = "INVALID_USCC"
    message = "统一社会信用代码格式或校验位不正确。"


class InvalidIdNumber(InvalidArgument):
    reason = "INVALID_ID_NUMBER"
    message = "身份证号码格式或校验位不正确。"


class OfficerUnknown(Unauthenticated):
    reason = "OFFICER_UNKNOWN"
    message = "工作人员账号不存在。"


class OfficerDisabled(PermissionDenied):
    reason = "OFFICER_DISABLED"
    message = "工作人员账号已停用。"


class RateLimited(ResourceExhausted):
    reason = "RATE_LIMITED"
    message = "登录尝试过于频繁，请稍后再试。"


# --- sessions and tokens ----------------------------------------------------
class RefreshTokenRequired(InvalidArgument):
    reason = "REFRESH_TOKEN_REQUIRED"
    message = "缺少刷新凭据。"


class RefreshTokenInvalid(Unauthenticated):
    reason = "REFRESH_TOKEN_INVALID"
    message = "登录状态无效，请重新登录。"


class RefreshTokenExpired(Unauthenticated):
    reason = "REFRESH_TOKEN_EXPIRED"
    message = "登录状态已过期，请重新登录。"


class RefreshTokenReused(Unauthenticated):
    reason = "REFRESH_TOKEN_REUSED"
    message = "登录状态异常，已为您退出登录，请重新登录。"


class SessionRevoked(Unauthenticated):
    reason = "SESSION_REVOKED"
    message = "您已退出登录，请重新登录。"



class SessionNotOwned(PermissionDenied):
    reason = "SESSION_NOT_OWNED"
    message = "无权结束该登录会话。"


class AccessTokenRequired(InvalidArgument):
    reason = "ACCESS_TOKEN_REQUIRED"
    message = "缺少访问令牌。"


class ActivateAfterInvalid(InvalidArgument):
    reason = "ACTIVATE_AFTER_INVALID"
    message = "密钥启用等待时间不能为负数或超过一天。"


# --- callers ----------------------------------------------------------------
class NotApplicant(PermissionDenied):
    reason = "NOT_APPLICANT"
    message = "仅申请人用户可进行此操作。"




class NotLicenceOfficer(PermissionDenied):
    reason = "NOT_LICENCE_OFFICER"
    message = "仅负责经营许可证审核的工作人员可进行此操作。"



class UserNotFound(NotFound):
    reason = "USER_NOT_FOUND"
    message = "用户不存在，请重新登录。"


class PartyNotFound(NotFound):
    reason = "PARTY_NOT_FOUND"
    message = "申请人不存在。"


# --- licence onboarding (ID-5) ------------------------------------------------
class OnboardingComplete(FailedPrecondition):
    reason = "ONBOARDING_COMPLETE"
    message = "您的账号已通过审核，无需再次提交经营许可证。"


class LicenceReviewPending(FailedPrecondition):
    reason = "LICENCE_REVIEW_PENDING"
    message = "您的道路运输经营许可证正在审核中，请耐心等待（5个工作日内完成）。"


class ProvinceUnknown(FailedPrecondition):
    reason = "PROVINCE_UNKNOWN"
    message = "无法确定您所属的省份，请选择经营许可证的发证省份。"


class DocumentNotFound(InvalidArgument):
    reason = "DOCUMENT_NOT_FOUND"
    message = "未找到上传的经营许可证图片，请重新上传。"


class DocumentKindInvalid(InvalidArgument):
    reason = "DOCUMENT_KIND_INVALID"
    message = "上传的材料不是道路运输经营许可证，请重新上传。"


class LicenceNotFound(NotFound):
    reason = "LICENCE_NOT_FOUND"
    message = "经营许可证提交记录不存在。"


class LicenceNotPending(FailedPrecondition):
    reason = "LICENCE_NOT_PENDING"
    message = "该经营许可证已审核，不能重复审核。"


class ReasonRequired(InvalidArgument):
    reason = "REASON_REQUIRED"
    message = "驳回时请填写原因。"

    def __init__(self) -> None:
        super().__init__(field="reason")


class DecisionRequired(InvalidArgument):
    reason = "DECISION_REQUIRED"
    message = "请选择审核结论。"


class EtagMismatch(Aborted):
    reason = "ETAG_MISMATCH"
    message = "该记录已被他人修改，请刷新后重试。"


# --- officers (ID-6) ----------------------------------------------------------
class OfficerExists(AlreadyExists):
    reason = "OFFICER_EXISTS"
    message = "该工作人员账号已存在。"


class OfficerNotFound(NotFound):
    reason = "OFFICER_NOT_FOUND"
    message = "工作人员账号不存在。"


class UpdateMaskInvalid(InvalidArgument):
    reason = "UPDATE_MASK_INVALID"
    message = "更新字段无效。"


# --- legacy import (ID-3) -----------------------------------------------------
class LegacyIdInvalid(InvalidArgument):
    reason = "LEGACY_ID_INVALID"
    message = "原系统账户编号无效。"


class KindRequired(InvalidArgument):
    reason = "KIND_REQUIRED"
    message = "请指明账户类型（企业或个人）。"


class ProvinceInvalid(InvalidArgument):
    reason = "PROVINCE_INVALID"
    message = "省份代码无效。"


def field_error(reason: str, message: str, field: str) -> InvalidArgument:
    """A bad request field (LICENCE_NUMBER_REQUIRED on `licence_number`, ...)."""
    return InvalidArgument(message, reason=reason, field=field)


# --- OpenID Connect sign-in (SI-1, SI-2) -------------------------------------------
class IdentityProviderUnavailable(Unavailable):
    reason = "IDENTITY_PROVIDER_UNAVAILABLE"
    message = "统一身份认证服务暂时无法访问，请稍后重试。"


class ChannelNotConfigured(FailedPrecondition):
    reason = "SIGN_IN_CHANNEL_NOT_CONFIGURED"
    message = "该入口尚未接入统一身份认证，请使用其他入口登录。"


class DevSignInDisabled(FailedPrecondition):
    reason = "DEV_SIGN_IN_DISABLED"
    message = "本环境不接受开发测试登录凭据，请通过国家政务服务平台统一身份认证登录。"


class RedirectUriInvalid(InvalidArgument):
    reason = "REDIRECT_URI_INVALID"
    message = "登录回调地址未登记。"


class CodeRequired(InvalidArgument):
    reason = "CODE_REQUIRED"
    message = "缺少授权码，请重新登录。"


class StateRequired(InvalidArgument):
    reason = "STATE_REQUIRED"
    message = "缺少登录请求标识，请重新登录。"


class NonceRequired(InvalidArgument):
    reason = "NONCE_REQUIRED"
    message = "缺少登录请求随机数，请重新登录。"


class SignInStateInvalid(Unauthenticated):
    reason = "SIGN_IN_STATE_INVALID"
    message = "登录请求已失效或已完成，请重新登录。"


class AuthorizationCodeInvalid(Unauthenticated):
    reason = "AUTHORIZATION_CODE_INVALID"
    message = "授权码无效或已使用，请重新登录。"


class IdTokenInvalid(Unauthenticated):
    reason = "ID_TOKEN_INVALID"
    message = "统一身份认证返回的身份令牌校验未通过，请重新登录。"


class IdTokenExpired(Unauthenticated):
    reason = "ID_TOKEN_EXPIRED"
    message = "统一身份认证返回的身份令牌已过期，请重新登录。"


class RealNameLevelTooLow(FailedPrecondition):
    reason = "REAL_NAME_LEVEL_TOO_LOW"
    message = "请先在国家政务服务平台完成实名认证后再登录。"


class OfficerProvinceMismatch(PermissionDenied):
    reason = "OFFICER_PROVINCE_MISMATCH"
    message = "工作人员目录中的所属省份与本系统登记不一致，请联系管理员。"


class OfficerRolesMissing(PermissionDenied):
    reason = "OFFICER_ROLES_MISSING"
    message = "工作人员目录未授予本系统登记的任何岗位，请联系管理员。"
