"""Chinese texts of the OpenAPI document: operations, tags, reasons and requirements.

The proto comments are English and do not reach the generated descriptors, so
the words a mobile or officer client developer reads live here, keyed by
operationId. ``tests/gateway/test_openapi_docs.py`` fails when an operation
has no entry, when an entry names an operation that no longer exists, and
when an operation's reasons drift from the ``Errors:`` of its proto comment.
"""

from __future__ import annotations

from dataclasses import dataclass

# Who calls an operation (``x-audience``). 公开 means callable without signing in.
APPLICANT, OFFICER, PUBLIC = "申请人", "审批人员", "公开"


@dataclass(frozen=True)
class Tag:
    """A tag and the API (tag group) it belongs to."""

    name: str
    group: str
    description: str


@dataclass(frozen=True)
class Operation:
    """The Chinese documentation of one operation."""

    summary: str
    tags: tuple[str, ...]
    audience: tuple[str, ...]
    does: str
    callers: str
    errors: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()


MOBILE_API, OFFICER_API, COMMON_API = "掌上办 API（申请人）", "审批端 API（审批人员）", "公共接口"

INFO_DESCRIPTION = """\
跨省大件运输并联许可“掌上办”后端的 HTTP/JSON 接口：承运人（申请人）在手机上登录、分六步填报并提交申请、\
查询进度并办理撤销、再来一件、车辆变更、延期、废止；起运地省份受理并发证，途经各省并联审批。

**两套 API**：标签分组“掌上办 API（申请人）”供移动端使用，“审批端 API（审批人员）”供各省审批人员工作台使用，\
“公共接口”两端共用。每个接口的 `x-audience` 标明调用方：申请人、审批人员或公开（无需登录）。

**登录**：除标注为公开的接口外，请在请求头携带 `Authorization: Bearer <accessToken>`，\
accessToken 由 `POST /v1/sessions:signIn` 或 `POST /v1/sessions:refresh` 返回。\
审批人员只能办理本省事项，申请人只能看到本单位（本人）的数据。

**JSON 约定**（proto3 JSON 映射）：字段名为小驼峰；枚举取值写名称（如 `STATE_DRAFT`）；\
64 位整数（`*Kg` 千克、`*Mm` 毫米等）以十进制字符串返回，提交时字符串或数字均可；\
日期为对象 `{"year": 2031, "month": 2, "day": 9}`；时间为 RFC 3339 字符串（`2026-12-01T08:00:00Z`）；\
省份一律为 GB/T 2260 代码（河北 `130000`）。重量、尺寸另有按吨/米填写的文本字段（如 `weightTonnes`：`"12.5"`），\
返回时统一补足 3 位小数（`"12.500"`）。

**错误**：失败时返回 `{"error": {...}}`（结构见 `components.schemas.Error`）：`message` 为可直接展示的中文提示，\
`reason` 为稳定的原因代码（客户端据此分支），有误的字段及其路径（如 `cargo.weight_kg`）在 `fieldViolations` 中列出。\
各接口说明列出了该接口的主要原因代码；此外任一需登录的接口都可能返回 401 \
（`UNAUTHENTICATED` 未登录、`TOKEN_INVALID` 凭证无效、`TOKEN_EXPIRED` 登录已过期、`SESSION_REVOKED` 已退出登录），\
请求格式有误时返回 400 `REQUEST_MALFORMED`，服务暂不可用时返回 503。

**分页**：列表接口以 `pageSize` / `pageToken` 请求，响应中的 `nextPageToken` 为空表示已是最后一页。
"""

TAGS: tuple[Tag, ...] = (
    Tag("身份与登录", COMMON_API,
        "从国家政务服务平台 APP、支付宝小程序、微信小程序或审批人员工作台登录，刷新与退出登录，"
        "查询当前登录人、所代表的申请人及入驻状态；令牌验证公钥（ID-1～ID-4）。"),
    Tag("基础数据", COMMON_API, "省份与国家高速公路参考数据，供选择起终点、途经省份和规范道路名称，无需登录（AP-7）。"),
    Tag("许可核验", COMMON_API, "扫描电子许可证二维码核验许可证真伪与有效期，无需登录（RV-5）。"),
    Tag("运维", COMMON_API, "健康检查。"),
    Tag("消息", COMMON_API,
        "站内消息：申请人收到受理、退回补正、路线调整、不予许可、发证、撤销、车辆变更与延期结果、经营许可证审核结果；"
        "审批人员收到新的待办、补正后重新提交、路线调整答复、审查即将到期与已超期提醒。未读数、分页列表、标记已读（MS-1、MS-2）。"),
    Tag("消息推送地址", MOBILE_API,
        "企业登记自己的接收地址（HTTPS），平台以 HMAC-SHA256 签名的 JSON 推送本单位的消息，失败自动重试，可查看推送记录（MS-3）。"),
    Tag("入驻审核", MOBILE_API,
        "新用户提交道路运输经营许可证待审核（5 个工作日内），老用户关联电脑端原账户（ID-3、ID-5）。"),
    Tag("申请填报", MOBILE_API,
        "“我要申请”：新建草稿，按货物信息、车辆信息、车货总体信息、通行信息、经办人信息、其他材料六步保存，"
        "重复办证校验、超限分类与所需材料，提交或删除（AP-1～AP-10、PQ-4、PQ-6）。"),
    Tag("车辆与经办人", MOBILE_API,
        "输入车牌号码或经办人姓名时匹配电脑端维护过的及以往申请用过的车辆、经办人，号牌格式校验（AP-4、AP-8）。"),
    Tag("路线", MOBILE_API,
        "选择起终点后的三种路线填写方式：手动填写（校验）、“识别路线”、“历史路线推荐”（AP-7）。"),
    Tag("材料上传", MOBILE_API,
        "上传行驶证、身份证、授权委托书、车货总体轮廓图、护送方案、运输计划、经营许可证等材料（每个不超过 1MB），"
        "查看、下载与删除（AP-4、AP-8、AP-9、ID-5）。"),
    Tag("进度查询", MOBILE_API,
        "“进度查询与变更”：全部申请列表、按申请单号或车牌号码搜索、申请详情、各省审批进度与状态变更记录（PQ-1、PQ-2）。"),
    Tag("许可管理与变更", MOBILE_API,
        "再来一件、撤销申请、调整路线、车辆变更、延期申请、许可废止及查看许可证（PQ-3、PQ-5、PQ-7～PQ-11）。"),
    Tag("待办与案件", OFFICER_API,
        "本省待办（待受理、待审批、待发证、待决定的车辆变更与延期），案件详情、许可证及申请材料查阅（RV-1、RV-4）。"),
    Tag("受理与发证", OFFICER_API,
        "起运地省份受理（受理岗）：受理、退回补正、不予受理，决定车辆变更，全部途经省份同意后发证（RV-1、RV-3、PQ-10）。"),
    Tag("并联审查", OFFICER_API,
        "途经各省并联审批（审查岗）：领取与释放、中止与恢复计时、同意/不同意/退回补正/建议调整路线，决定延期（RV-2～RV-4、PQ-7、PQ-11）。"),
    Tag("经营许可证审核", OFFICER_API, "审核新用户提交的道路运输经营许可证（经营许可证审核岗，ID-5、ID-6）。"),
    Tag("系统管理", OFFICER_API, "审批人员账号管理与工作日历维护（系统管理员，ID-6、RV-4）。"),
)

# Short Chinese titles of docs/requirements.md, cited in every operation's description.
REQUIREMENTS: dict[str, str] = {
    "ID-1": "三个入口：国家政务服务平台 APP、支付宝小程序、微信小程序",
    "ID-2": "仅国家政务服务平台账号可登录",
    "ID-3": "老用户自动关联原账户信息",
    "ID-4": "法人用户须用法人账号登录才能关联",
    "ID-5": "新用户提交道路运输经营许可证审核",
    "ID-6": "审批人员账号按省份管理",
    "AP-1": "我要申请：阅读许可须知至少 5 秒",
    "AP-2": "六步填报，提交或保存",
    "AP-3": "货物信息：空载、重量与尺寸补足 3 位小数",
    "AP-4": "车辆信息：车牌匹配或手动填写并上传行驶证",
    "AP-5": "车货总体信息：轴距、轴荷分布，总质量与外廓尺寸校验",
    "AP-6": "重复办证校验：同一车辆时间重叠最多两件",
    "AP-7": "通行路线：选择起终点后三种填写方式",
    "AP-7a": "手动填写路线",
    "AP-7b": "识别路线",
    "AP-7c": "历史路线推荐",
    "AP-8": "经办人信息：姓名匹配或手动填写并上传身份证、授权委托书",
    "AP-9": "其他材料：按填报信息判断所需材料，每个不超过 1MB",
    "AP-10": "提交或保存草稿",
    "PQ-1": "七种许可状态",
    "PQ-2": "许可进度查询与搜索",
    "PQ-3": "再来一件",
    "PQ-4": "未提交：编辑、提交、删除",
    "PQ-5": "未受理：撤销申请",
    "PQ-6": "退回补正：查看原因、修改后提交",
    "PQ-7": "处理中：调整路线",
    "PQ-8": "处理中：撤销申请",
    "PQ-9": "已发证：许可废止",
    "PQ-10": "处理中：车辆变更",
    "PQ-11": "已发证：延期申请",
    "RV-1": "起运地省份受理或退回",
    "RV-2": "途经省份并联审批",
    "RV-3": "全部同意后发证，一省不同意即不予许可",
    "RV-4": "按类别计算审批时限（工作日）",
    "RV-5": "许可证编号、有效期与电子证照核验",
    "UI-1": "掌上办 H5 页面：手册各页面，中文，适配 360～430 像素宽",
    "UI-2": "页面在真实浏览器中走完整个手册，保留截图，无严重无障碍问题",
    "CT-1": "许可证（PDF 与手机图片）载明车辆、货物、逐省路线、有效期与通行条件",
    "CT-2": "二维码可离线验签（签名载荷、公布的公钥）并在线核验当前状态",
    "CT-3": "公开核验页只显示路面检查所需信息，不含个人信息",
    "MS-1": "申请人收到需要知道的每一件事（每件一次），有未读数",
    "MS-2": "审批人员收到新待办、补正重交、调整答复、即将到期与超期提醒",
    "MS-3": "企业登记推送地址，推送有签名、重试和记录",
    "SI-1": "经国家政务服务平台统一身份认证（OpenID Connect）登录，审批人员经本省人员目录登录",
    "SI-2": "生产部署拒绝开发用登录",
    "PC-1": "承运人经接口维护车辆与经办人（电脑端），即手机端匹配与车辆变更的范围",
    "PC-2": "企业信息对承运人及其审批人员可见",
    "PC-3": "历史数据导入为可重复的同步（JSON、CSV、XLSX），幂等，导入的许可证可废止与延期",
}

# reason -> (gRPC status name, what it means). The HTTP status follows from the
# gRPC status (permit_gateway.errors.HTTP_STATUS).
REASONS: dict[str, tuple[str, str]] = {
    "AUTHORIZATION_CODE_INVALID": ("UNAUTHENTICATED", "授权码无效或已使用"),
    "CODE_REQUIRED": ("INVALID_ARGUMENT", "缺少授权码"),
    "DEV_SIGN_IN_DISABLED": ("FAILED_PRECONDITION", "本环境不接受开发测试登录凭据，须通过统一身份认证登录"),
    "ID_TOKEN_EXPIRED": ("UNAUTHENTICATED", "统一身份认证的身份令牌已过期"),
    "ID_TOKEN_INVALID": ("UNAUTHENTICATED", "统一身份认证的身份令牌校验未通过（签名、签发方、受众或随机数不符）"),
    "IDENTITY_PROVIDER_UNAVAILABLE": ("UNAVAILABLE", "统一身份认证服务暂时无法访问，请稍后重试"),
    "NONCE_REQUIRED": ("INVALID_ARGUMENT", "小程序登录缺少随机数（nonce）"),
    "OFFICER_PROVINCE_MISMATCH": ("PERMISSION_DENIED", "工作人员目录中的所属省份与本系统登记不一致"),
    "OFFICER_ROLES_MISSING": ("PERMISSION_DENIED", "工作人员目录未授予本系统登记的任何岗位"),
    "REAL_NAME_LEVEL_TOO_LOW": ("FAILED_PRECONDITION", "实名认证等级不足"),
    "REDIRECT_URI_INVALID": ("INVALID_ARGUMENT", "登录回调地址未登记"),
    "SIGN_IN_CHANNEL_NOT_CONFIGURED": ("FAILED_PRECONDITION", "该入口尚未接入统一身份认证"),
    "SIGN_IN_STATE_INVALID": ("UNAUTHENTICATED", "登录请求已失效或已完成，须重新发起登录"),
    "STATE_REQUIRED": ("INVALID_ARGUMENT", "缺少登录请求标识（state）"),
    "APPLICATION_INCOMPLETE": ("FAILED_PRECONDITION", "申请信息尚未填写完整"),
    "APPLICATION_NOT_DRAFT": ("FAILED_PRECONDITION", "只有未提交的申请可以修改或删除"),
    "APPLICATION_NOT_FOUND": ("NOT_FOUND", "申请不存在或不属于当前申请人"),
    "CERTIFICATE_NOT_FOUND": ("NOT_FOUND", "该版本的通行证不存在"),
    "CERTIFICATE_FORMAT_INVALID": ("INVALID_ARGUMENT", "通行证格式只能是 pdf 或 png"),
    "CERTIFICATE_PENDING": ("UNAVAILABLE", "通行证正在生成，稍后重试"),
    "DOCUMENT_KIND_RESERVED": ("INVALID_ARGUMENT", "该类材料由系统生成，不能上传"),
    "APPLICATION_NOT_SUBMITTABLE": ("FAILED_PRECONDITION", "申请当前状态不能提交"),
    "APPLICATION_NOT_WITHDRAWABLE": ("FAILED_PRECONDITION", "只有未受理或处理中的申请可以撤销"),
    "ARCHIVE_UNSAFE": ("INVALID_ARGUMENT", "文档结构异常（压缩炸弹或非法路径），不能上传"),
    "CASE_NOT_AWAITING_ACCEPTANCE": ("FAILED_PRECONDITION", "案件不处于待受理状态"),
    "CASE_NOT_FOUND": ("NOT_FOUND", "审批案件不存在"),
    "CASE_NOT_READY_TO_ISSUE": ("FAILED_PRECONDITION", "途经省份尚未全部同意，不能发证"),
    "CASE_NOT_UNDER_REVIEW": ("FAILED_PRECONDITION", "案件不处于审批中（处理中）状态"),
    "CHANNEL_PERSON_ONLY": ("FAILED_PRECONDITION", "支付宝、微信小程序仅支持个人用户登录"),
    "CHANNEL_REQUIRED": ("INVALID_ARGUMENT", "未选择登录渠道"),
    "CONCURRENT_UPDATE": ("ABORTED", "数据正在被他人修改，请稍后重试"),
    "CORRECTION_SUBMIT_ONLY": ("FAILED_PRECONDITION", "退回补正的申请修改后只能提交，不能保存"),
    "DATE_OUTSIDE_YEAR": ("INVALID_ARGUMENT", "日期不属于该年份"),
    "DECISION_REQUIRED": ("INVALID_ARGUMENT", "未选择审批结论"),
    "DISPLAY_NAME_REQUIRED": ("INVALID_ARGUMENT", "未填写工作人员姓名"),
    "DOCUMENT_IN_REVIEW": ("FAILED_PRECONDITION", "材料已被提交审核的申请使用，不能删除"),
    "CERTIFICATE_KEPT": ("FAILED_PRECONDITION", "许可证件由审批机关签发，不能删除"),
    "DOCUMENT_KIND_MISSING": ("INVALID_ARGUMENT", "未选择材料类型"),
    "DOCUMENT_NOT_FOUND": ("NOT_FOUND", "材料不存在或无权查看"),
    "DOCUMENTS_UNAVAILABLE": ("UNAVAILABLE", "材料服务暂时不可用，暂时无法核对所选材料，请稍后重试"),
    "DOCUMENT_REFERENCE_INVALID": ("INVALID_ARGUMENT", "所选材料不存在或不是申请人本人上传的，请重新上传"),
    "DOCUMENT_KIND_MISMATCH": ("INVALID_ARGUMENT", "所选材料类型与所需材料不符"),
    "DOCUMENT_REQUIRED": ("INVALID_ARGUMENT", "未上传经营许可证图片"),
    "DOWNLOAD_TOKEN_EXPIRED": ("PERMISSION_DENIED", "下载链接已过期，请重新获取"),
    "DOWNLOAD_TOKEN_INVALID": ("PERMISSION_DENIED", "下载链接无效"),
    "SAME_VEHICLE": ("INVALID_ARGUMENT", "变更后的车辆与原车辆相同"),
    "VEHICLE_ALREADY_ON_CASE": ("INVALID_ARGUMENT", "所选车辆已在此申请中"),
    "ESCORT_PLAN_REQUIRED": ("INVALID_ARGUMENT", "三类大件采纳调整路线须重新上传护送方案"),
    "ETAG_MISMATCH": ("ABORTED", "数据已在别处被修改（etag 不一致），请刷新后重试"),
    "EXTENSION_NOT_FOUND": ("NOT_FOUND", "延期申请不存在"),
    "EXTENSION_NOT_PENDING": ("FAILED_PRECONDITION", "延期申请已处理"),
    "EXTENSION_PENDING": ("FAILED_PRECONDITION", "已有待审批的延期申请"),
    "FILE_ACTIVE_CONTENT": ("INVALID_ARGUMENT", "文件含宏、脚本或嵌入程序"),
    "FILE_CORRUPT": ("INVALID_ARGUMENT", "文件已损坏或不完整"),
    "FILE_EMPTY": ("INVALID_ARGUMENT", "文件为空"),
    "FILE_MISLABELLED": ("INVALID_ARGUMENT", "扩展名或声明的类型与文件内容不符"),
    "FILE_POLYGLOT": ("INVALID_ARGUMENT", "文件中夹带了其他类型的内容"),
    "FILE_TOO_LARGE": ("INVALID_ARGUMENT", "文件超过 1MB（1,048,576 字节）"),
    "FORMAT_NOT_ALLOWED": ("INVALID_ARGUMENT", "该材料类型不接受此文件格式"),
    "IMAGE_TOO_LARGE": ("INVALID_ARGUMENT", "图片像素尺寸过大"),
    "INVALID_FIELD": ("INVALID_ARGUMENT", "填写内容有误，逐项原因见 fieldViolations"),
    "INVALID_ID_NUMBER": ("INVALID_ARGUMENT", "身份证号码格式或校验位不正确"),
    "INVALID_PAGE_SIZE": ("INVALID_ARGUMENT", "每页条数无效"),
    "INVALID_PAGE_TOKEN": ("INVALID_ARGUMENT", "分页标记无效，请从第一页重新查询"),
    "INVALID_UPDATE_MASK": ("INVALID_ARGUMENT", "updateMask 须为 cargo、vehicles、overall、passage、agent、materials 之一或组合"),
    "INVALID_USCC": ("INVALID_ARGUMENT", "统一社会信用代码格式或校验位不正确"),
    "ISSUING_AUTHORITY_REQUIRED": ("INVALID_ARGUMENT", "未填写发证机关"),
    "LICENCE_EXPIRED": ("INVALID_ARGUMENT", "经营许可证已过有效期"),
    "LICENCE_NOT_FOUND": ("NOT_FOUND", "经营许可证提交记录不存在"),
    "LICENCE_NOT_PENDING": ("FAILED_PRECONDITION", "经营许可证已审核，不能重复审核"),
    "LICENCE_NUMBER_REQUIRED": ("INVALID_ARGUMENT", "未填写道路运输经营许可证号"),
    "LICENCE_REJECTED": ("FAILED_PRECONDITION", "经营许可证未通过审核，须重新提交"),
    "LICENCE_REQUIRED": ("FAILED_PRECONDITION", "新用户须先提交道路运输经营许可证"),
    "LICENCE_REVIEW_PENDING": ("FAILED_PRECONDITION", "经营许可证正在审核中（5 个工作日内完成）"),
    "LOGIN_INVALID": ("INVALID_ARGUMENT", "登录名须为 3～63 位小写字母、数字或连字符，以字母开头"),
    "MATERIALS_MISSING": ("FAILED_PRECONDITION", "所需材料未上传齐全"),
    "MINISTRY_PORTAL_ACCOUNT": ("FAILED_PRECONDITION", "交通运输部政务服务平台账号不能登录，须在国家政务服务平台重新注册"),
    "MULTI_TRIP_TOO_LONG": ("INVALID_ARGUMENT", "多次通行许可有效期最长 6 个月"),
    "NAME_INVALID": ("INVALID_ARGUMENT", "资源名称格式不正确"),
    "QUERY_TOO_LONG": ("INVALID_ARGUMENT", "搜索内容超过 64 个字符"),
    "PERMIT_CLASS_INVALID": ("INVALID_ARGUMENT", "许可类别不是 1、2 或 3"),
    "NEW_END_DATE_INVALID": ("INVALID_ARGUMENT", "延期截止日期须晚于当前截止日期"),
    "NEW_END_DATE_REQUIRED": ("INVALID_ARGUMENT", "未选择延期截止日期"),
    "NOTICE_NOT_READ": ("FAILED_PRECONDITION", "许可须知阅读不足 5 秒"),
    "NOTICE_RECEIPT_INVALID": ("FAILED_PRECONDITION", "许可须知的阅读凭证无效（伪造或他人的凭证）"),
    "NOT_ADMIN": ("PERMISSION_DENIED", "仅系统管理员可操作"),
    "NOT_APPLICANT": ("PERMISSION_DENIED", "仅申请人可操作，或不是本单位（本人）的数据"),
    "NOT_LICENCE_OFFICER": ("PERMISSION_DENIED", "仅经营许可证审核岗可操作"),
    "NOT_OFFICER": ("PERMISSION_DENIED", "仅审批人员（相应岗位）可操作"),
    "NOT_OVER_LIMIT": ("FAILED_PRECONDITION", "车货总体未超限，无需办理大件运输许可"),
    "NOT_SIGNED_IN": ("UNAUTHENTICATED", "未登录"),
    "NO_ADJUSTMENT_PROPOSED": ("FAILED_PRECONDITION", "该省份未提出路线调整建议"),
    "OFFICER_DISABLED": ("PERMISSION_DENIED", "工作人员账号已停用"),
    "OFFICER_EXISTS": ("ALREADY_EXISTS", "工作人员账号已存在"),
    "OFFICER_NOT_FOUND": ("NOT_FOUND", "工作人员账号不存在"),
    "OFFICER_UNKNOWN": ("UNAUTHENTICATED", "工作人员账号不存在"),
    "ONBOARDING_COMPLETE": ("FAILED_PRECONDITION", "账号已通过审核，无需再提交经营许可证"),
    "OTHER_PROVINCE": ("PERMISSION_DENIED", "该事项不属于本省，无权办理"),
    "OVERALL_MISSING": ("FAILED_PRECONDITION", "尚未填写车辆和车货总体信息"),
    "OVER_LIMIT_REFUSED": ("FAILED_PRECONDITION", "车货总体轴荷超过规定，不予许可"),
    "PARTY_REQUIRED": ("PERMISSION_DENIED", "仅对申请人开放（历史路线推荐、消息推送地址等）"),
    "INBOX_REQUIRED": ("PERMISSION_DENIED", "只有申请人和审批人员有消息"),
    "MESSAGE_NOT_FOUND": ("NOT_FOUND", "消息不存在或不属于当前用户"),
    "WEBHOOK_NOT_FOUND": ("NOT_FOUND", "推送地址不存在或不属于本单位"),
    "WEBHOOK_URL_INVALID": ("INVALID_ARGUMENT", "推送地址格式不正确"),
    "WEBHOOK_URL_NOT_HTTPS": ("INVALID_ARGUMENT", "推送地址必须使用 HTTPS"),
    "TOO_MANY_WEBHOOKS": ("FAILED_PRECONDITION", "每个企业最多登记 5 个推送地址"),
    "PERMIT_NOT_ACTIVE": ("FAILED_PRECONDITION", "许可证已废止或已过期"),
    "PERMIT_NOT_FOUND": ("NOT_FOUND", "许可证不存在"),
    "PLATE_NOT_ON_CASE": ("INVALID_ARGUMENT", "要变更的车辆不在此申请中"),
    "POWER_OF_ATTORNEY_REQUIRED": ("INVALID_ARGUMENT", "未上传新的授权委托书"),
    "PROVINCES_REQUIRED": ("INVALID_ARGUMENT", "未选择延期省份"),
    "PROVINCE_ALREADY_DECIDED": ("FAILED_PRECONDITION", "本省已对该延期申请作出决定"),
    "PROVINCE_INVALID": ("INVALID_ARGUMENT", "省份代码无效"),
    "PROVINCE_NOT_ON_ROUTE": ("INVALID_ARGUMENT", "所选省份不在许可路线上"),
    "PROVINCE_UNKNOWN": ("FAILED_PRECONDITION", "无法确定所属省份，请选择经营许可证的发证省份"),
    "QUERY_REQUIRED": ("INVALID_ARGUMENT", "未输入申请单号或车牌号码"),
    "RATE_LIMITED": ("RESOURCE_EXHAUSTED", "登录尝试过于频繁"),
    "REASON_REQUIRED": ("INVALID_ARGUMENT", "未填写原因"),
    "REFRESH_TOKEN_EXPIRED": ("UNAUTHENTICATED", "登录状态已过期，须重新登录"),
    "REFRESH_TOKEN_INVALID": ("UNAUTHENTICATED", "刷新凭据无效"),
    "REFRESH_TOKEN_REQUIRED": ("INVALID_ARGUMENT", "缺少刷新凭据"),
    "REFRESH_TOKEN_REUSED": ("UNAUTHENTICATED", "刷新凭据被重复使用，已退出登录"),
    "REVIEW_ALREADY_SUSPENDED": ("FAILED_PRECONDITION", "该审批已中止计时"),
    "REVIEW_CLAIMED_BY_OTHER": ("FAILED_PRECONDITION", "该审批已由其他审批人员领取"),
    "REVIEW_NOT_CLAIMED_BY_CALLER": ("FAILED_PRECONDITION", "您未领取该审批"),
    "REVIEW_NOT_FOUND": ("NOT_FOUND", "该省份不在此申请的途经省份中"),
    "REVIEW_NOT_PENDING": ("FAILED_PRECONDITION", "该省份已审批完毕"),
    "REVIEW_NOT_SUSPENDED": ("FAILED_PRECONDITION", "该审批未中止计时"),
    "ROLES_REQUIRED": ("INVALID_ARGUMENT", "至少指定一个角色"),
    "ROLE_INVALID": ("INVALID_ARGUMENT", "角色无效"),
    "ROUTE_TEXT_TOO_LONG": ("INVALID_ARGUMENT", "路线文字超过 20000 字，请分段识别"),
    "ROUTE_TOO_LONG": ("INVALID_ARGUMENT", "路线超过 100 行"),
    "SESSION_NOT_OWNED": ("PERMISSION_DENIED", "无权结束他人的登录会话"),
    "SESSION_REVOKED": ("UNAUTHENTICATED", "已退出登录，须重新登录"),
    "STORAGE_UNAVAILABLE": ("UNAVAILABLE", "文件存储服务暂时不可用，请稍后重试"),
    "SUGGESTED_ROUTE_INVALID": ("INVALID_ARGUMENT", "建议路线无效：只能调整本省路段且每行须有道路"),
    "SUGGESTED_ROUTE_REQUIRED": ("INVALID_ARGUMENT", "建议调整路线时须给出建议路线"),
    "TICKET_CHANNEL_MISMATCH": ("UNAUTHENTICATED", "登录凭据与登录渠道不符"),
    "TICKET_EXPIRED": ("UNAUTHENTICATED", "登录凭据已过期"),
    "TICKET_INVALID": ("UNAUTHENTICATED", "登录凭据无效"),
    "TICKET_REPLAYED": ("UNAUTHENTICATED", "登录凭据已使用过"),
    "TICKET_REQUIRED": ("INVALID_ARGUMENT", "缺少登录凭据"),
    "UNAUTHENTICATED": ("UNAUTHENTICATED", "未登录"),
    "UNKNOWN_PROVINCE": ("INVALID_ARGUMENT", "省份代码无效"),
    "UNSUPPORTED_FORMAT": ("INVALID_ARGUMENT", "不支持的文件格式（可上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件）"),
    "UNSUPPORTED_IMAGE_FORMAT": ("INVALID_ARGUMENT", "不支持的图片格式，可尝试更换图片格式后重新上传"),
    "UPDATE_MASK_INVALID": ("INVALID_ARGUMENT", "updateMask 含不可修改的字段"),
    "ENTERPRISE_PARTY_REQUIRED": ("INVALID_ARGUMENT", "审批人员查看企业信息须指定申请人"),
    "APPROVAL_UNAVAILABLE": ("UNAVAILABLE", "审批服务暂时不可用，无法核对案件，请稍后重试"),
    "PARTY_NOT_FOUND": ("NOT_FOUND", "申请人不存在"),
    "UPLOAD_HEADER_MISSING": ("INVALID_ARGUMENT", "上传请求缺少文件信息"),
    "USER_NOT_FOUND": ("NOT_FOUND", "用户不存在，须重新登录"),
    "VALIDITY_INVERTED": ("INVALID_ARGUMENT", "有效期截止日期早于起始日期"),
    "VALIDITY_REQUIRED": ("INVALID_ARGUMENT", "未填写经营许可证有效期"),
    "VEHICLE_CHANGE_NOT_FOUND": ("NOT_FOUND", "车辆变更申请不存在"),
    "VEHICLE_CHANGE_NOT_PENDING": ("FAILED_PRECONDITION", "车辆变更申请已处理"),
    "VEHICLE_CHANGE_PENDING": ("FAILED_PRECONDITION", "已有待审批的车辆变更申请"),
    "VEHICLE_NOT_EQUIVALENT": ("FAILED_PRECONDITION", "新车辆的整备质量、轴数、轴距、轮胎数与原车辆不完全一致"),
    "VEHICLE_NOT_FOUND": ("NOT_FOUND", "车辆不存在，请先在电脑端维护车辆信息"),
    "VEHICLE_EXISTS": ("ALREADY_EXISTS", "该车牌号码的车辆已在维护中"),
    "VEHICLE_RETIRED": ("FAILED_PRECONDITION", "车辆已停用，不能修改"),
    "AGENT_NOT_FOUND": ("NOT_FOUND", "经办人不存在"),
    "AGENT_EXISTS": ("ALREADY_EXISTS", "该身份证号码的经办人已在维护中"),
    "AGENT_RETIRED": ("FAILED_PRECONDITION", "经办人已停用，不能修改"),
    "VEHICLE_NOT_IN_FLEET": ("FAILED_PRECONDITION", "只能选择电脑端维护过的车辆"),
    "VEHICLE_SPEC_UNKNOWN": ("FAILED_PRECONDITION", "原车辆参数未知，无法办理车辆变更"),
    "VEHICLE_TIME_CONFLICT": ("FAILED_PRECONDITION", "所选时间内该车辆已有两件申请，时间发生冲突（可更换车辆，或撤销/废止相关申请）"),
    "VERIFICATION_CODE_REQUIRED": ("INVALID_ARGUMENT", "未提供核验码"),
    "YEAR_INVALID": ("INVALID_ARGUMENT", "年份格式不正确"),
}

_ACTIVE = "入驻状态须为已通过（未入驻的新用户返回 LICENCE_REQUIRED 等）"
_APPLICANT = f"申请人（法人用户或个人用户，只能办理本单位/本人的申请），{_ACTIVE}。"
_HOLDER = "申请人，只能办理本单位（本人）的案件和许可证。"
_ACCEPT = "审批人员：起运地省份的受理岗（角色 `officer.accept`），只能办理本省为起运地的案件。"
_REVIEW = "审批人员：途经省份的审查岗（角色 `officer.review`），只能办理本省的审批。"
_LICENCE = "审批人员：经营许可证审核岗（角色 `officer.licence`），只能审核本省的经营许可证。"
_ADMIN = "系统管理员（角色 `admin`）。"
_INBOX = "已登录的申请人（看本单位/本人的消息）或审批人员（看本省的消息）。"
_PARTY = "已登录的申请人（法人用户或个人用户），只能管理本单位（本人）的推送地址。"
_REVIEW_ERRORS = ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "REVIEW_NOT_FOUND")
_APPROVAL_COMMON = ("NAME_INVALID", "CONCURRENT_UPDATE")

OPERATIONS: dict[str, Operation] = {
    # ---- 身份与登录 ----------------------------------------------------------
    "SignIn": Operation(
        "登录（APP、支付宝、微信小程序或审批人员工作台）",
        ("身份与登录",), (APPLICANT, OFFICER, PUBLIC),
        "用登录凭据（ticket）按入口渠道登录，返回访问令牌与刷新令牌。仅开发测试环境显式开启开发身份提供方时可用，"
        "生产环境一律拒绝（DEV_SIGN_IN_DISABLED），正式登录请用 `POST /v1/sessions:start` 与 `POST /v1/sessions:complete`。"
        "支付宝、微信小程序只支持个人用户；老用户首次进入时自动关联电脑端原账户（申请、企业信息、车辆、经办人）；"
        "法人用户须用法人账号登录才会关联原法人账户，用个人账号登录时 `me.linkHint` 给出提示。"
        "交通运输部政务服务平台的账号不能登录。",
        "任何人（无需登录）；审批人员使用 `CHANNEL_STAFF` 渠道。",
        ("CHANNEL_REQUIRED", "TICKET_REQUIRED", "INVALID_USCC", "INVALID_ID_NUMBER", "TICKET_INVALID",
         "TICKET_EXPIRED", "TICKET_REPLAYED", "TICKET_CHANNEL_MISMATCH", "OFFICER_UNKNOWN", "CHANNEL_PERSON_ONLY",
         "MINISTRY_PORTAL_ACCOUNT", "OFFICER_DISABLED", "RATE_LIMITED", "DEV_SIGN_IN_DISABLED"),
        ("ID-1", "ID-2", "ID-3", "ID-4")),
    "StartSignIn": Operation(
        "发起统一身份认证登录（APP、H5 页面或审批人员工作台）", ("身份与登录",), (APPLICANT, OFFICER, PUBLIC),
        "通过国家政务服务平台统一身份认证（OpenID Connect）登录：返回须打开的认证页地址（授权码模式，"
        "带 PKCE、state 与 nonce，均由服务端保存）。认证完成后平台带着授权码和 state 回到登记的回调地址，"
        "再调用 `POST /v1/sessions:complete`。审批人员用 `CHANNEL_STAFF`，经本省工作人员目录认证。",
        "任何人（无需登录）。",
        ("CHANNEL_REQUIRED", "REDIRECT_URI_INVALID", "SIGN_IN_CHANNEL_NOT_CONFIGURED", "IDENTITY_PROVIDER_UNAVAILABLE"),
        ("ID-1", "ID-6")),
    "CompleteSignIn": Operation(
        "完成统一身份认证登录", ("身份与登录",), (APPLICANT, OFFICER, PUBLIC),
        "用认证平台返回的授权码完成登录：APP、H5 页面和审批人员带上 `state`；支付宝、微信小程序交来本小程序"
        "认证得到的授权码和 `nonce`，由服务端向平台换取身份令牌。身份令牌的签名、签发方、受众、有效期和随机数"
        "（只能使用一次）均经校验；随后与 `POST /v1/sessions:signIn` 一样适用渠道与账号规则：小程序只支持个人用户，"
        "交通运输部政务服务平台账号不能登录，老用户自动关联原账户；审批人员的省份与岗位须与本系统登记一致。"
        "认证平台无法访问时返回 503，不留下任何登录记录。",
        "任何人（无需登录）。",
        ("CODE_REQUIRED", "STATE_REQUIRED", "NONCE_REQUIRED", "CHANNEL_REQUIRED", "REDIRECT_URI_INVALID",
         "INVALID_USCC", "INVALID_ID_NUMBER", "SIGN_IN_STATE_INVALID", "AUTHORIZATION_CODE_INVALID",
         "ID_TOKEN_INVALID", "ID_TOKEN_EXPIRED", "TICKET_REPLAYED", "TICKET_CHANNEL_MISMATCH", "OFFICER_UNKNOWN",
         "CHANNEL_PERSON_ONLY", "MINISTRY_PORTAL_ACCOUNT", "REAL_NAME_LEVEL_TOO_LOW",
         "SIGN_IN_CHANNEL_NOT_CONFIGURED", "OFFICER_DISABLED", "OFFICER_PROVINCE_MISMATCH", "OFFICER_ROLES_MISSING",
         "RATE_LIMITED", "IDENTITY_PROVIDER_UNAVAILABLE"),
        ("ID-1", "ID-2", "ID-3", "ID-4", "ID-6")),
    "RefreshSession": Operation(
        "刷新登录状态", ("身份与登录",), (APPLICANT, OFFICER, PUBLIC),
        "用刷新令牌换取新的访问令牌和刷新令牌（旧刷新令牌随即作废，只能用一次）。"
        "会重新读取身份信息，经营许可证审核通过后刷新即可进入首页。",
        "持有刷新令牌的申请人或审批人员（无需访问令牌）。",
        ("REFRESH_TOKEN_REQUIRED", "REFRESH_TOKEN_INVALID", "REFRESH_TOKEN_EXPIRED", "REFRESH_TOKEN_REUSED",
         "SESSION_REVOKED"),
        ("ID-1", "ID-5")),
    "SignOut": Operation(
        "退出登录", ("身份与登录",), (APPLICANT, OFFICER),
        "结束给定刷新令牌所属的登录会话；请求体为空时结束当前用户的全部会话（所有设备均需重新登录）。",
        "已登录的申请人或审批人员，只能结束自己的会话。",
        ("NOT_SIGNED_IN", "SESSION_NOT_OWNED"),
        ("ID-1",)),
    "GetMe": Operation(
        "查询当前登录人", ("身份与登录",), (APPLICANT, OFFICER),
        "返回当前登录人、所代表的申请人（企业或个人）、角色、所属省份、入驻状态（是否须提交经营许可证）"
        "及原账户关联情况与提示。",
        "已登录的申请人或审批人员。",
        ("NOT_SIGNED_IN", "USER_NOT_FOUND"),
        ("ID-1", "ID-3", "ID-4", "ID-5")),
    "GetEnterprise": Operation(
        "查看企业信息", ("身份与登录",), (APPLICANT, OFFICER),
        "返回企业信息：名称、统一社会信用代码、地址、联系人、营业执照经营范围及有效期（原电脑端系统导入，老用户登录后即可看到）。"
        "申请人查看本单位（本人）的；审批人员在 `party` 中指定申请人，仅当该申请人在本省有案件（起运地或途经本省）时可查看。",
        "已登录的申请人（本单位/本人），或办理该申请人本省案件的审批人员。",
        ("NOT_SIGNED_IN", "NOT_APPLICANT", "OTHER_PROVINCE", "PARTY_NOT_FOUND", "ENTERPRISE_PARTY_REQUIRED",
         "APPROVAL_UNAVAILABLE"),
        ("ID-3",)),
    "UpdateEnterprise": Operation(
        "修改企业信息", ("身份与登录",), (APPLICANT,),
        "修改本单位的名称、地址、联系人、营业执照经营范围或有效期（`updateMask` 列出要改的字段），统一社会信用代码不可修改；"
        "带上次返回的 etag 防止覆盖他人的修改。每次修改都记录修改人、时间及修改前后的内容。",
        "申请人，只能修改本单位（本人）的企业信息。",
        ("NOT_SIGNED_IN", "NOT_APPLICANT", "UPDATE_MASK_INVALID", "INVALID_FIELD", "ETAG_MISMATCH"),
        ("ID-3",)),
    "ListEnterpriseChanges": Operation(
        "企业信息修改记录", ("身份与登录",), (APPLICANT,),
        "列出本单位企业信息的修改记录（修改人、时间、各字段修改前后的内容），新的在前，分页返回。",
        "申请人，只能查看本单位（本人）的记录。",
        ("NOT_SIGNED_IN", "NOT_APPLICANT", "INVALID_PAGE_TOKEN"),
        ("ID-3",)),
    "ListPublicKeys": Operation(
        "查询令牌验证公钥", ("身份与登录",), (PUBLIC,),
        "列出可验证访问令牌（JWT，EdDSA）的公钥，含当前密钥、尚未过期的旧密钥及预先发布的新密钥。",
        "任何人（无需登录），一般由后端组件使用。",
        ("INVALID_PAGE_TOKEN",)),
    # ---- 入驻审核 ------------------------------------------------------------
    "LinkLegacyAccount": Operation(
        "重新关联原账户", ("入驻审核",), (APPLICANT,),
        "为当前用户重新执行原账户关联（可重复调用），用于电脑端数据晚于首次登录导入的情形。",
        "已登录的申请人（法人用户须用法人账号登录）。",
        ("NOT_SIGNED_IN", "NOT_APPLICANT", "USER_NOT_FOUND"),
        ("ID-3", "ID-4")),
    "SubmitLicence": Operation(
        "提交道路运输经营许可证", ("入驻审核",), (APPLICANT,),
        "未使用过本系统的新用户提交道路运输经营许可证（许可证号、发证机关、有效期和已上传的许可证图片）供审核；"
        "被驳回后可重新提交。审核在 5 个工作日内完成，通过后再次进入即可直接进入“掌上办”首页。",
        "已登录、入驻状态为须提交或已驳回的申请人（新用户）。",
        ("NOT_SIGNED_IN", "NOT_APPLICANT", "LICENCE_NUMBER_REQUIRED", "ISSUING_AUTHORITY_REQUIRED",
         "VALIDITY_REQUIRED", "VALIDITY_INVERTED", "LICENCE_EXPIRED", "DOCUMENT_REQUIRED", "ONBOARDING_COMPLETE",
         "LICENCE_REVIEW_PENDING", "PROVINCE_UNKNOWN"),
        ("ID-5",)),
    "GetLicence": Operation(
        "查看经营许可证提交记录", ("入驻审核", "经营许可证审核"), (APPLICANT, OFFICER),
        "返回一次经营许可证提交的内容、审核状态、审核期限和驳回原因。",
        f"提交该许可证的申请人；或{_LICENCE}",
        ("NOT_SIGNED_IN", "OTHER_PROVINCE", "NOT_LICENCE_OFFICER", "LICENCE_NOT_FOUND"),
        ("ID-5",)),
    "ListLicenceReviews": Operation(
        "经营许可证待审列表", ("经营许可证审核",), (OFFICER,),
        "列出本省的经营许可证提交记录，审核期限最早的在前（默认只列待审核的）。",
        _LICENCE,
        ("NOT_SIGNED_IN", "NOT_LICENCE_OFFICER", "OTHER_PROVINCE", "INVALID_PAGE_TOKEN"),
        ("ID-5", "ID-6")),
    "ReviewLicence": Operation(
        "审核经营许可证（通过/驳回）", ("经营许可证审核",), (OFFICER,),
        "对待审核的经营许可证作出通过或驳回（须填写原因，申请人可见）的决定；通过后该用户可进入首页办理。",
        _LICENCE,
        ("NOT_SIGNED_IN", "NOT_LICENCE_OFFICER", "OTHER_PROVINCE", "LICENCE_NOT_FOUND", "DECISION_REQUIRED",
         "REASON_REQUIRED", "LICENCE_NOT_PENDING", "ETAG_MISMATCH"),
        ("ID-5", "ID-6")),
    # ---- 申请填报 ------------------------------------------------------------
    "GetPermitNotice": Operation(
        "许可须知（附服务器签发的阅读凭证）", ("申请填报",), (APPLICANT,),
        "“我要申请”前展示的许可须知全文，附服务器按自身时钟签发的阅读凭证 `receipt`："
        "展示满 `readSeconds`（5）秒后，把凭证交给“我要申请”。",
        _APPLICANT,
        ("LICENCE_REQUIRED", "LICENCE_REVIEW_PENDING", "LICENCE_REJECTED", "NOT_APPLICANT"),
        ("AP-1",)),
    "CreateApplication": Operation(
        "我要申请：新建申请草稿", ("申请填报",), (APPLICANT,),
        "“我要申请”：新建一件未提交的申请（草稿）。须带上许可须知的阅读凭证 `noticeReceipt`，"
        "按服务器时钟签发满 5 秒（且不超过 24 小时）才可新建；客户端的 `noticeShownTime` 仅兼容旧版本，不作判断。"
        "同一 `requestId` 重试返回同一草稿。随后按六步用 UpdateApplication 保存。",
        _APPLICANT,
        ("NOTICE_NOT_READ", "NOTICE_RECEIPT_INVALID", "LICENCE_REQUIRED", "LICENCE_REVIEW_PENDING",
         "LICENCE_REJECTED", "NOT_APPLICANT"),
        ("AP-1",)),
    "GetApplication": Operation(
        "查看申请详情", ("申请填报", "进度查询"), (APPLICANT,),
        "返回一件申请的六步填报内容、状态（七种之一）、超限分类、所需材料、各省审批进度、"
        "退回补正或不予许可的原因以及许可证信息。",
        _APPLICANT,
        ("APPLICATION_NOT_FOUND", "NOT_APPLICANT"),
        ("PQ-1", "PQ-2", "PQ-6")),
    "UpdateApplication": Operation(
        "保存填报步骤（货物、车辆、车货总体、通行、经办人、其他材料）", ("申请填报",), (APPLICANT,),
        "保存草稿的一步或几步，`updateMask` 每项对应一步：`cargo` 货物信息、`vehicles` 车辆信息、"
        "`overall` 车货总体信息、`passage` 通行信息（起终点、路线、通行日期，选择日期时做重复办证校验）、"
        "`agent` 经办人信息、`materials` 其他材料。请求体为申请对象，带上最近一次读到的 `etag`。"
        "返回保存后的申请；所填步骤有误时返回 INVALID_FIELD，逐项原因见 fieldViolations（如 `cargo.weight_kg`）。"
        "退回补正的申请不能保存，只能随 SubmitApplication 一并提交。",
        _APPLICANT,
        ("INVALID_FIELD", "INVALID_UPDATE_MASK", "APPLICATION_NOT_DRAFT", "CORRECTION_SUBMIT_ONLY",
         "VEHICLE_TIME_CONFLICT", "ETAG_MISMATCH", "APPLICATION_NOT_FOUND"),
        ("AP-2", "AP-3", "AP-4", "AP-5", "AP-6", "AP-7a", "AP-8", "AP-9", "AP-10", "PQ-4")),
    "SubmitApplication": Operation(
        "提交许可申请（含修改补正后提交）", ("申请填报",), (APPLICANT,),
        "提交草稿（“提交许可”），或退回补正的申请连同修改内容一并提交（“修改补正”，补正只能提交不能保存）。"
        "提交时重新校验各步、超限分类、所需材料和重复办证；同一 `requestId` 重试返回已提交的申请。"
        "提交后状态为未受理，等待起运地省份受理。",
        _APPLICANT,
        ("INVALID_FIELD", "APPLICATION_NOT_SUBMITTABLE", "APPLICATION_INCOMPLETE", "NOT_OVER_LIMIT",
         "OVER_LIMIT_REFUSED", "MATERIALS_MISSING", "VEHICLE_TIME_CONFLICT", "ETAG_MISMATCH",
         "APPLICATION_NOT_FOUND", "DOCUMENTS_UNAVAILABLE"),
        ("AP-2", "AP-6", "AP-10", "PQ-4", "PQ-6")),
    "DeleteApplication": Operation(
        "删除许可（未提交）", ("申请填报",), (APPLICANT,),
        "删除一件未提交的申请（“删除许可”），删除后申请作废且无法恢复。",
        _APPLICANT,
        ("APPLICATION_NOT_DRAFT", "ETAG_MISMATCH", "APPLICATION_NOT_FOUND"),
        ("PQ-4",)),
    "CheckVehicleSchedule": Operation(
        "重复办证校验", ("申请填报",), (APPLICANT,),
        "选择通行日期时的重复办证校验：同一申请时间范围内同一辆车最多申请两件。"
        "返回每辆已有两件时间重叠申请的车辆，只列出本人的申请单号（其他申请人的申请只计件数）；`ok` 为 false 时提示时间发生冲突，"
        "用户可更换车辆，或到“进度查询与变更”撤销/废止相关申请后重新申请。",
        _APPLICANT,
        ("INVALID_FIELD", "APPLICATION_NOT_FOUND"),
        ("AP-6",)),
    "ClassifyApplication": Operation(
        "超限分类（一类/二类/三类）", ("申请填报",), (APPLICANT,),
        "按车货总体信息判断是否超限及许可类别（一类、二类、三类），或轴荷超过规定不予许可，并列出触发的规则。",
        _APPLICANT,
        ("OVERALL_MISSING", "APPLICATION_NOT_FOUND"),
        ("AP-5",)),
    "GetRequiredMaterials": Operation(
        "查询所需材料", ("申请填报",), (APPLICANT,),
        "按填报信息自动判断须上传的材料及已上传数量：三类申请须三张车货总体轮廓图和一份护送方案，"
        "多次通行须一份运输计划，手动填写的车辆须行驶证，手动填写的经办人须身份证和授权委托书。",
        _APPLICANT,
        ("APPLICATION_NOT_FOUND",),
        ("AP-9",)),
    # ---- 车辆与经办人 --------------------------------------------------------
    "SuggestVehicles": Operation(
        "车牌号码联想（匹配已维护车辆）", ("车辆与经办人",), (APPLICANT,),
        "输入车牌号码时匹配电脑端维护过的车辆以及以往在“掌上办”申请过的车辆，返回完整车辆信息，"
        "选择后自动带入车辆类型、厂牌型号等，无需再填。电脑端维护的车辆在前，分页返回。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "NOT_APPLICANT"),
        ("AP-4",)),
    "GetVehicle": Operation(
        "查看已维护车辆", ("车辆与经办人",), (APPLICANT,),
        "返回本单位（本人）一辆已维护车辆的完整信息（如车辆变更时选择的新车辆）。",
        _APPLICANT,
        ("VEHICLE_NOT_FOUND", "NOT_APPLICANT"),
        ("AP-4", "PQ-10")),
    "ValidatePlateNumber": Operation(
        "校验车牌号码", ("车辆与经办人",), (APPLICANT,),
        "校验车牌号码格式（普通号牌如“冀A12345”，新能源号牌如“冀AD12345”，挂车号牌如“冀A1234挂”），"
        "返回规范写法和号牌种类；不合格时给出中文原因（不作为错误返回）。",
        _APPLICANT,
        (),
        ("AP-4",)),
    "SuggestAgents": Operation(
        "经办人姓名联想", ("车辆与经办人",), (APPLICANT,),
        "输入经办人姓名时匹配电脑端维护过的及以往申请用过的经办人（身份证号码脱敏），"
        "选择后把 `agentRef` 传回经办人信息一步即可自动带入其他信息。电脑端维护的经办人在前，分页返回。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "NOT_APPLICANT"),
        ("AP-8",)),
    # ---- 电脑端维护：车辆与经办人 ---------------------------------------------
    "ListFleetVehicles": Operation(
        "已维护车辆列表", ("车辆与经办人",), (APPLICANT,),
        "列出本单位（本人）在电脑端维护的车辆，按车牌号码排序，分页返回；`showRetired` 为真时包括已停用的车辆。"
        "这些车辆就是填报时车牌号码联想的结果，也是车辆变更时可选的新车辆。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "NOT_APPLICANT"),
        ("AP-4", "PQ-10")),
    "CreateFleetVehicle": Operation(
        "添加维护车辆", ("车辆与经办人",), (APPLICANT,),
        "添加一辆维护车辆：车牌号码、车辆类型、厂牌型号、整备质量、轴数、轴距、轮胎数、外廓尺寸及两张行驶证"
        "或临时号牌图片（先上传，每张不超过 1MB），校验与填报时手动填写车辆相同。以往申请用过或已停用的同一号牌"
        "按本次填写的信息重新维护。",
        _APPLICANT,
        ("INVALID_FIELD", "VEHICLE_EXISTS", "NOT_APPLICANT", "DOCUMENTS_UNAVAILABLE"),
        ("AP-4", "PQ-10")),
    "UpdateFleetVehicle": Operation(
        "修改维护车辆", ("车辆与经办人",), (APPLICANT,),
        "修改一辆维护车辆的信息或行驶证图片（`updateMask` 列出要改的字段，为空表示全部），车牌号码不可修改；"
        "已提交的申请保留提交时的车辆信息。",
        _APPLICANT,
        ("INVALID_FIELD", "VEHICLE_NOT_FOUND", "VEHICLE_RETIRED", "NOT_APPLICANT", "DOCUMENTS_UNAVAILABLE"),
        ("AP-4", "PQ-10")),
    "RetireFleetVehicle": Operation(
        "停用维护车辆", ("车辆与经办人",), (APPLICANT,),
        "停用一辆维护车辆：此后不再出现在车牌号码联想中，也不能作为车辆变更的新车辆；已办理的申请和许可证仍保留该车辆。"
        "重复停用不报错。",
        _APPLICANT,
        ("VEHICLE_NOT_FOUND", "NOT_APPLICANT"),
        ("AP-4", "PQ-10")),
    "ListFleetAgents": Operation(
        "已维护经办人列表", ("车辆与经办人",), (APPLICANT,),
        "列出本单位（本人）在电脑端维护的经办人（身份证号码脱敏），按姓名排序，分页返回；"
        "`showRetired` 为真时包括已停用的经办人。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "NOT_APPLICANT"),
        ("AP-8",)),
    "CreateFleetAgent": Operation(
        "添加维护经办人", ("车辆与经办人",), (APPLICANT,),
        "添加一名维护经办人：姓名、身份证号码、手机号码、身份证正反面两张图片和一张授权委托书图片（先上传，"
        "每张不超过 1MB），校验与填报时手动填写经办人相同。",
        _APPLICANT,
        ("INVALID_FIELD", "AGENT_EXISTS", "NOT_APPLICANT", "DOCUMENTS_UNAVAILABLE"),
        ("AP-8",)),
    "UpdateFleetAgent": Operation(
        "修改维护经办人", ("车辆与经办人",), (APPLICANT,),
        "修改一名维护经办人的姓名、手机号码或图片（`updateMask` 列出要改的字段，为空表示全部），身份证号码不可修改。",
        _APPLICANT,
        ("INVALID_FIELD", "AGENT_NOT_FOUND", "AGENT_RETIRED", "NOT_APPLICANT", "DOCUMENTS_UNAVAILABLE"),
        ("AP-8",)),
    "RetireFleetAgent": Operation(
        "停用维护经办人", ("车辆与经办人",), (APPLICANT,),
        "停用一名维护经办人：此后不再出现在经办人姓名联想中；已办理的申请仍保留。重复停用不报错。",
        _APPLICANT,
        ("AGENT_NOT_FOUND", "NOT_APPLICANT"),
        ("AP-8",)),
    # ---- 路线 ----------------------------------------------------------------
    "ListProvinces": Operation(
        "省份列表", ("基础数据", "路线"), (PUBLIC,),
        "列出 31 个省级行政区的 GB/T 2260 代码、名称、简称、别名及相邻省份，供选择起终点和途经省份。",
        "任何人（无需登录）。",
        ("INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN"),
        ("AP-7",)),
    "ListExpressways": Operation(
        "国家高速公路列表", ("基础数据", "路线"), (PUBLIC,),
        "列出国家高速公路的编号与名称（可按编号或名称筛选），识别路线时据此规范道路名称。",
        "任何人（无需登录）。",
        ("INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN"),
        ("AP-7b",)),
    "ParseRouteText": Operation(
        "识别路线", ("路线",), (APPLICANT,),
        "“识别路线”：把粘贴的路线文字识别为逐省路线行。格式为省份名称后用冒号、道路之间用连字符、"
        "一个省份结束后用分号并换行，不需要写省界名称，例如 `河北省：G4-G45；`。"
        "内容有问题时不报错，而是在 `problems` 中逐条给出行号、列号和原因，已识别的行照常返回，且可继续编辑。",
        "已登录的申请人。",
        ("ROUTE_TEXT_TOO_LONG",),
        ("AP-7b",)),
    "ValidateRoute": Operation(
        "校验路线（手动填写）", ("路线",), (APPLICANT,),
        "校验手动填写的逐省路线：第一行须为起运地省份、须包含终点省份、每行须有道路；"
        "最后一行不是终点省份（多次进出一个省份）、相邻两行省份不接壤等情况作为提示返回，请用户确认后继续。"
        "返回参与审批的途经省份。",
        "已登录的申请人。",
        ("ROUTE_TOO_LONG",),
        ("AP-7", "AP-7a")),
    "RecommendRoutes": Operation(
        "历史路线推荐", ("路线",), (APPLICANT,),
        "“历史路线推荐”：给出本用户以往相同起终点、准予许可的通行路线（相同路线合并，按次数和时间排序），"
        "选择后自动填入路线，可继续编辑。",
        "已登录的申请人（仅本单位/本人的历史路线）。",
        ("UNKNOWN_PROVINCE", "INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN", "UNAUTHENTICATED", "PARTY_REQUIRED"),
        ("AP-7c",)),
    # ---- 材料上传 ------------------------------------------------------------
    "UploadDocument": Operation(
        "上传材料（图片或文件，不超过 1MB）", ("材料上传",), (APPLICANT,),
        "以 multipart/form-data 上传一个材料：`file` 为文件，`kind` 为材料类型（行驶证/临时号牌、身份证正反面、"
        "授权委托书、车货总体轮廓图、护送方案、运输计划、经营许可证）。文件不超过 1MB（1,048,576 字节），"
        "格式按内容判断：图片类材料只收 JPG、PNG，护送方案和运输计划还可以是 PDF、DOC、DOCX，经营许可证可为图片或 PDF；"
        "图片会去除 EXIF 信息。上传失败时给出具体原因（如不支持的图片格式）。返回的 `name`（`documents/…`）"
        "填入车辆、经办人或其他材料步骤。",
        "已登录的申请人（新用户提交经营许可证前也可上传许可证图片）。",
        ("UPLOAD_HEADER_MISSING", "DOCUMENT_KIND_MISSING", "DOCUMENT_KIND_RESERVED", "FILE_EMPTY", "FILE_TOO_LARGE",
         "UNSUPPORTED_IMAGE_FORMAT", "UNSUPPORTED_FORMAT", "FORMAT_NOT_ALLOWED", "FILE_CORRUPT", "FILE_POLYGLOT",
         "FILE_MISLABELLED", "ARCHIVE_UNSAFE", "FILE_ACTIVE_CONTENT", "IMAGE_TOO_LARGE", "NOT_APPLICANT",
         "STORAGE_UNAVAILABLE"),
        ("AP-4", "AP-8", "AP-9", "ID-5")),
    "GetDocument": Operation(
        "查看材料信息", ("材料上传", "待办与案件"), (APPLICANT, OFFICER),
        "返回一个已上传材料的类型、文件名、检测出的格式、大小和上传时间。",
        "上传该材料的申请人；或审批该申请的省份（起运地及途经省份）的审批人员。",
        ("DOCUMENT_NOT_FOUND",),
        ("AP-9",)),
    "GetDownloadUrl": Operation(
        "获取材料下载链接", ("材料上传", "待办与案件"), (APPLICANT, OFFICER),
        "返回一个短时有效的材料下载链接，过期后须重新获取。",
        "上传该材料的申请人；或审批该申请的省份的审批人员。",
        ("DOCUMENT_NOT_FOUND", "STORAGE_UNAVAILABLE"),
        ("AP-9",)),
    "DownloadDocument": Operation(
        "下载材料内容", ("材料上传", "待办与案件"), (APPLICANT, OFFICER, PUBLIC),
        "按材料原格式返回文件内容。登录用户可直接下载；未登录时须带上下载链接中的 `token`。",
        "可查看该材料的申请人或审批人员；或持有有效下载链接（`token`）的任何人。",
        ("DOCUMENT_NOT_FOUND", "DOWNLOAD_TOKEN_INVALID", "DOWNLOAD_TOKEN_EXPIRED", "STORAGE_UNAVAILABLE"),
        ("AP-9",)),
    "DeleteDocument": Operation(
        "删除材料", ("材料上传",), (APPLICANT,),
        "删除一个尚未被提交审核的申请使用的材料（如重新拍照前删除旧图片）；签发的许可证件不能删除。",
        "上传该材料的申请人。",
        ("DOCUMENT_NOT_FOUND", "DOCUMENT_IN_REVIEW", "CERTIFICATE_KEPT"),
        ("AP-9",)),
    # ---- 进度查询 ------------------------------------------------------------
    "ListApplications": Operation(
        "进度查询：全部申请列表", ("进度查询",), (APPLICANT,),
        "“进度查询与变更”页面：列出所有保存或提交过的申请，最新的在前；可按状态筛选，"
        "也可按申请单号或车牌号码搜索；分页返回并给出总数。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "NOT_APPLICANT"),
        ("PQ-1", "PQ-2")),
    "SearchApplications": Operation(
        "按申请单号或车牌号码搜索", ("进度查询",), (APPLICANT,),
        "按申请单号或车牌号码（完整或部分）搜索本单位（本人）的申请，最新的在前。",
        _APPLICANT,
        ("QUERY_REQUIRED", "INVALID_PAGE_TOKEN"),
        ("PQ-2",)),
    "ListStateChanges": Operation(
        "申请状态变更记录", ("进度查询",), (APPLICANT,),
        "列出一件申请的每次状态变化：何时、由谁、从何状态到何状态、原因，最早的在前；分页返回，默认一页 100 条。",
        _APPLICANT,
        ("INVALID_PAGE_TOKEN", "APPLICATION_NOT_FOUND"),
        ("PQ-1", "PQ-2")),
    "GetCase": Operation(
        "查看审批进度（审批案件）", ("进度查询", "待办与案件"), (APPLICANT, OFFICER),
        "返回审批案件：各途经省份的审批状态、审批期限（工作日）、是否超期、审批意见、建议路线、车辆变更和历史记录，"
        "以及提交时的申请内容（货物、车辆全部参数、车货总体、轴荷、路线、通行日期、经办人、材料、许可类别及判定规则、"
        "重复办证校验结果）和补正后重新提交时的逐项改动。点击“处理中”查看具体审批进度时使用。",
        "申请人（只能看本单位/本人的案件）；或途经该省份的审批人员。",
        ("NOT_APPLICANT", "OTHER_PROVINCE", "CASE_NOT_FOUND", "NAME_INVALID"),
        ("PQ-2", "RV-4")),
    "GetCase_2": Operation(
        "按申请查看审批进度", ("进度查询", "待办与案件"), (APPLICANT, OFFICER),
        "与 GetCase 相同，按申请（`applications/{application_id}/case`）查找其审批案件，"
        "申请端不必知道案件编号；申请尚未提交时返回 CASE_NOT_FOUND。",
        "申请人（只能看本单位/本人的案件）；或途经该省份的审批人员。",
        ("NOT_APPLICANT", "OTHER_PROVINCE", "CASE_NOT_FOUND", "NAME_INVALID"),
        ("PQ-2", "RV-4")),
    # ---- 许可管理与变更 ------------------------------------------------------
    "CloneApplication": Operation(
        "再来一件", ("许可管理与变更",), (APPLICANT,),
        "“再来一件”：任何状态的申请都可以据此新建一件草稿，填报信息自动带入（通行日期清空），"
        "用户修改后按新申请流程提交；同一 `requestId` 重试返回同一草稿。",
        _APPLICANT,
        ("APPLICATION_NOT_FOUND", "LICENCE_REQUIRED", "LICENCE_REVIEW_PENDING", "LICENCE_REJECTED"),
        ("PQ-3",)),
    "WithdrawApplication": Operation(
        "撤销申请（未受理或处理中）", ("许可管理与变更",), (APPLICANT,),
        "“撤销申请”：撤销未受理或处理中的申请，撤销后申请作废且无法恢复，审批随即终止。",
        _APPLICANT,
        ("APPLICATION_NOT_WITHDRAWABLE", "ETAG_MISMATCH", "APPLICATION_NOT_FOUND"),
        ("PQ-5", "PQ-8")),
    "RespondToAdjustment": Operation(
        "调整路线：采纳或不采纳建议路线", ("许可管理与变更",), (APPLICANT,),
        "“调整路线”：对某省提出的建议行驶路线作出答复。采纳后替换该省路段，相关省份快速审批；"
        "三类大件采纳时须上传修改完善后的护送方案（`escortPlan`）。不采纳则不予许可。",
        _HOLDER,
        ("NOT_APPLICANT", "CASE_NOT_FOUND", "REVIEW_NOT_FOUND", "ESCORT_PLAN_REQUIRED", "DOCUMENT_REFERENCE_INVALID",
         "DOCUMENT_KIND_MISMATCH", "NO_ADJUSTMENT_PROPOSED", "ETAG_MISMATCH", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-7",)),
    "RequestVehicleChange": Operation(
        "车辆变更", ("许可管理与变更",), (APPLICANT,),
        "“车辆变更”：处理中的申请把一辆车更换为电脑端维护过的、整备质量、轴数、轴距、轮胎数完全一致的车辆，"
        "不能新填车辆信息，并须上传新的经办人授权委托书；由起运地省份决定。没有可选车辆时请到电脑端维护车辆信息。",
        _HOLDER,
        ("NOT_APPLICANT", "CASE_NOT_FOUND", "VEHICLE_NOT_FOUND", "POWER_OF_ATTORNEY_REQUIRED", "PLATE_NOT_ON_CASE",
         "DOCUMENT_REFERENCE_INVALID", "DOCUMENT_KIND_MISMATCH", "SAME_VEHICLE", "VEHICLE_ALREADY_ON_CASE",
         "CASE_NOT_UNDER_REVIEW", "VEHICLE_NOT_EQUIVALENT", "VEHICLE_NOT_IN_FLEET", "VEHICLE_SPEC_UNKNOWN",
         "VEHICLE_CHANGE_PENDING", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-10",)),
    "GetPermit": Operation(
        "查看许可证", ("许可管理与变更", "待办与案件"), (APPLICANT, OFFICER),
        "返回许可证：编号、有效期、状态、车辆、路线、各省通行条件、电子证照核验码、延期记录及各版通行证"
        "（当前版本与已被替代的旧版本）。",
        "持证的申请人；或途经该省份的审批人员。",
        ("NOT_APPLICANT", "OTHER_PROVINCE", "PERMIT_NOT_FOUND", "NAME_INVALID"),
        ("RV-5", "CT-1")),
    "RequestExtension": Operation(
        "延期申请", ("许可管理与变更",), (APPLICANT,),
        "“延期申请”：已发证的许可选择延期后的通行截止日期、需延期的省份和原因后提交，由所选省份审批；"
        "全部同意后许可证截止日期后移，状态为已延期。多次通行许可有效期合计最长 6 个月。",
        _HOLDER,
        ("NOT_APPLICANT", "PERMIT_NOT_FOUND", "NEW_END_DATE_REQUIRED", "NEW_END_DATE_INVALID", "PROVINCES_REQUIRED",
         "PROVINCE_NOT_ON_ROUTE", "REASON_REQUIRED", "MULTI_TRIP_TOO_LONG", "PERMIT_NOT_ACTIVE",
         "EXTENSION_PENDING", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-11",)),
    "AbolishPermit": Operation(
        "许可废止", ("许可管理与变更",), (APPLICANT,),
        "“许可废止”：完成运输任务后结束已发证许可的通行，许可证状态变为已废止（核验时显示已废止）。",
        _HOLDER,
        ("NOT_APPLICANT", "PERMIT_NOT_FOUND", "PERMIT_NOT_ACTIVE", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-9",)),
    # ---- 许可核验 ------------------------------------------------------------
    "VerifyPermit": Operation(
        "核验电子许可证", ("许可核验",), (PUBLIC,),
        "用许可证二维码中的核验码核验许可证：有效、已废止、已过期、已被新版本替代、尚未生效或无法识别；"
        "只返回路面检查所需的信息（许可证编号、车辆、有效期、路线、车货总体尺寸和总质量），不含任何个人信息。"
        "扫码打开的核验页面为 `/verify?c=核验码`。",
        "任何人（无需登录），如路面执法检查。",
        ("VERIFICATION_CODE_REQUIRED",),
        ("RV-5", "CT-2", "CT-3")),
    "DownloadCertificate": Operation(
        "下载许可证（通行证）", ("许可管理与变更", "待办与案件"), (APPLICANT, OFFICER),
        "下载超限运输车辆通行证：`format=pdf` 为 A4 可打印的 PDF，`format=png` 为手机图片；"
        "默认当前版本，`version` 可取已被替代的旧版本。通行证载明全部车辆、货物、车货总体尺寸和总质量、"
        "分省路线、有效期及各省通行条件，二维码可离线核验。发证或延期后稍候生成，生成前返回 503"
        "（CERTIFICATE_PENDING），稍后重试即可。",
        "持证的申请人；或途经该省份的审批人员。其他申请人得到 404。",
        ("PERMIT_NOT_FOUND", "CERTIFICATE_NOT_FOUND", "CERTIFICATE_FORMAT_INVALID", "CERTIFICATE_PENDING",
         "NAME_INVALID"),
        ("CT-1",)),
    "ListCertificateKeys": Operation(
        "查询通行证签名公钥", ("许可核验",), (PUBLIC,),
        "列出签署通行证二维码的 Ed25519 公钥（当前密钥及仍在流通的旧密钥），供路面检查离线核验二维码签名。",
        "任何人（无需登录），如执法检查的核验程序。",
        (),
        ("CT-2",)),
    # ---- 待办与案件、受理与发证 ----------------------------------------------
    "ListWorkQueue": Operation(
        "本省待办", ("待办与案件",), (OFFICER,),
        "列出等待本省处理的案件，期限最早的在前：本省为起运地的待受理、待发证、待决定车辆变更的案件，"
        "本省待审批的案件；可按状态、许可类别、是否超期、是否本人认领筛选，按申请单号或车牌号码搜索，"
        "并返回各状态的案件数；第一页另附须由本省决定延期的许可证。",
        "审批人员（受理岗或审查岗），只看本省。",
        ("NOT_OFFICER", "INVALID_PAGE_TOKEN", "PERMIT_CLASS_INVALID", "QUERY_TOO_LONG"),
        ("RV-1", "RV-2", "RV-4", "PQ-11")),
    "AcceptCase": Operation(
        "受理", ("受理与发证",), (OFFICER,),
        "起运地省份受理申请，同时为每个途经省份（含起运地）开启并联审批，按许可类别以工作日计算各省审批期限；"
        "申请状态变为处理中。",
        _ACCEPT,
        ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "CASE_NOT_AWAITING_ACCEPTANCE", "ETAG_MISMATCH",
         "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("RV-1", "RV-4")),
    "ReturnCase": Operation(
        "退回补正（受理前）", ("受理与发证",), (OFFICER,),
        "受理前把申请退回申请人补正，须写明需补正的内容（申请人在详情中可见）；申请状态变为退回补正。",
        _ACCEPT,
        ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "REASON_REQUIRED", "CASE_NOT_AWAITING_ACCEPTANCE",
         "ETAG_MISMATCH", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("RV-1", "PQ-6")),
    "RefuseCase": Operation(
        "不予受理", ("受理与发证",), (OFFICER,),
        "不予受理（如货物可解体、经营范围不含大件运输、申请人受限），须写明原因。",
        _ACCEPT,
        ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "REASON_REQUIRED", "CASE_NOT_AWAITING_ACCEPTANCE",
         "ETAG_MISMATCH", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("RV-1",)),
    "IssuePermit": Operation(
        "发证", ("受理与发证",), (OFFICER,),
        "全部途经省份同意后由起运地省份发证：生成许可证编号，有效期取通行日期（多次通行最长 6 个月），"
        "汇总各省通行条件并生成电子证照核验码；申请状态变为已发证。通行证（PDF 与手机图片）随后自动生成。",
        _ACCEPT,
        ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "CASE_NOT_READY_TO_ISSUE", "NAME_INVALID",
         "CONCURRENT_UPDATE"),
        ("RV-3", "RV-5", "CT-1")),
    "DecideVehicleChange": Operation(
        "决定车辆变更", ("受理与发证",), (OFFICER,),
        "起运地省份对待审批的车辆变更作出同意或不同意（须写原因）的决定；同意后案件及将签发的许可证改用新车辆。",
        _ACCEPT,
        ("NOT_OFFICER", "OTHER_PROVINCE", "CASE_NOT_FOUND", "VEHICLE_CHANGE_NOT_FOUND", "DECISION_REQUIRED",
         "REASON_REQUIRED", "VEHICLE_CHANGE_NOT_PENDING", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-10",)),
    # ---- 并联审查 ------------------------------------------------------------
    "ClaimReview": Operation(
        "领取审批", ("并联审查",), (OFFICER,),
        "领取本省的一项待审批，避免同省两名审批人员同时办理；领取一段时间后自动失效。",
        _REVIEW,
        (*_REVIEW_ERRORS, "REVIEW_NOT_PENDING", "REVIEW_CLAIMED_BY_OTHER", *_APPROVAL_COMMON),
        ("RV-2",)),
    "ReleaseReview": Operation(
        "释放审批", ("并联审查",), (OFFICER,),
        "释放自己领取的审批，其他审批人员可以领取。",
        _REVIEW,
        (*_REVIEW_ERRORS, "REVIEW_NOT_CLAIMED_BY_CALLER", *_APPROVAL_COMMON),
        ("RV-2",)),
    "SuspendReview": Operation(
        "中止审批计时", ("并联审查",), (OFFICER,),
        "本省路段需对公路、桥梁进行加固、改造时中止审批期限计时（该期间不计入审批期限），须写明原因；审批仍可办理。",
        _REVIEW,
        (*_REVIEW_ERRORS, "REASON_REQUIRED", "REVIEW_NOT_PENDING", "REVIEW_ALREADY_SUSPENDED", *_APPROVAL_COMMON),
        ("RV-4",)),
    "ResumeReview": Operation(
        "恢复审批计时", ("并联审查",), (OFFICER,),
        "恢复已中止的审批计时，剩余工作日从今天起继续计算。",
        _REVIEW,
        (*_REVIEW_ERRORS, "REVIEW_NOT_SUSPENDED", *_APPROVAL_COMMON),
        ("RV-4",)),
    "DecideReview": Operation(
        "审批：同意、不同意、退回补正或建议调整路线", ("并联审查",), (OFFICER,),
        "记录本省的审批决定：同意（可附通行条件）、不同意（须写原因，一省不同意即不予许可）、"
        "退回补正（须写原因）、建议调整路线（须写原因并给出本省路段的建议路线）。"
        "全部途经省份同意后案件进入待发证。",
        _REVIEW,
        (*_REVIEW_ERRORS, "DECISION_REQUIRED", "REASON_REQUIRED", "SUGGESTED_ROUTE_REQUIRED",
         "SUGGESTED_ROUTE_INVALID", "CASE_NOT_UNDER_REVIEW", "REVIEW_NOT_PENDING", "REVIEW_CLAIMED_BY_OTHER",
         "ETAG_MISMATCH", "CONCURRENT_UPDATE", "NAME_INVALID"),
        ("RV-2", "RV-3")),
    "ProposeRouteAdjustment": Operation(
        "建议调整路线", ("并联审查",), (OFFICER,),
        "要求申请人调整本省路段，须写明原因并给出建议路线；等同于 DecideReview 的建议调整路线。"
        "申请人采纳后本省快速审批，不采纳则不予许可。",
        _REVIEW,
        (*_REVIEW_ERRORS, "DECISION_REQUIRED", "REASON_REQUIRED", "SUGGESTED_ROUTE_REQUIRED",
         "SUGGESTED_ROUTE_INVALID", "CASE_NOT_UNDER_REVIEW", "REVIEW_NOT_PENDING", "REVIEW_CLAIMED_BY_OTHER",
         "ETAG_MISMATCH", "CONCURRENT_UPDATE", "NAME_INVALID"),
        ("PQ-7", "RV-2")),
    "DecideExtension": Operation(
        "决定延期申请", ("并联审查",), (OFFICER,),
        "申请人所选省份对延期申请作出同意或不同意（须写原因）的决定；所选省份全部同意后许可证截止日期后移，"
        "并换发新版通行证（旧版标记为已被替代）；一省不同意即延期不予批准。",
        "审批人员：申请人所选延期省份的审查岗（角色 `officer.review`），只能决定本省。",
        ("NOT_OFFICER", "OTHER_PROVINCE", "PERMIT_NOT_FOUND", "EXTENSION_NOT_FOUND", "DECISION_REQUIRED",
         "REASON_REQUIRED", "EXTENSION_NOT_PENDING", "PROVINCE_ALREADY_DECIDED", "PERMIT_NOT_ACTIVE",
         "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("PQ-11", "CT-1")),
    # ---- 系统管理 ------------------------------------------------------------
    "CreateOfficer": Operation(
        "新建审批人员账号", ("系统管理",), (OFFICER,),
        "为某省新建审批人员账号并指定角色：受理岗 `officer.accept`、审查岗 `officer.review`、"
        "经营许可证审核岗 `officer.licence`、系统管理员 `admin`。",
        _ADMIN,
        ("NOT_SIGNED_IN", "NOT_ADMIN", "LOGIN_INVALID", "DISPLAY_NAME_REQUIRED", "PROVINCE_INVALID", "ROLE_INVALID",
         "ROLES_REQUIRED", "OFFICER_EXISTS"),
        ("ID-6",)),
    "ListOfficers": Operation(
        "审批人员账号列表", ("系统管理",), (OFFICER,),
        "按登录名列出审批人员账号，可按省份筛选。",
        _ADMIN,
        ("NOT_SIGNED_IN", "NOT_ADMIN", "INVALID_PAGE_TOKEN"),
        ("ID-6",)),
    "UpdateOfficer": Operation(
        "修改审批人员账号", ("系统管理",), (OFFICER,),
        "修改审批人员的姓名、角色、省份或停用账号（`updateMask` 指定修改的字段）；停用后其登录会话随即失效。",
        _ADMIN,
        ("NOT_SIGNED_IN", "NOT_ADMIN", "OFFICER_NOT_FOUND", "UPDATE_MASK_INVALID", "PROVINCE_INVALID",
         "ROLE_INVALID", "ROLES_REQUIRED", "DISPLAY_NAME_REQUIRED"),
        ("ID-6",)),
    "GetWorkingCalendar": Operation(
        "查看工作日历", ("系统管理",), (OFFICER,),
        "返回某一年的法定节假日与调休工作日及数据来源；没有该年数据时 `known` 为 false，"
        "跨入该年的审批期限只按周一至周五计算并标注为暂定。",
        "审批人员或系统管理员。",
        ("NOT_OFFICER", "YEAR_INVALID", "NAME_INVALID"),
        ("RV-4",)),
    "UpdateWorkingCalendar": Operation(
        "维护工作日历", ("系统管理",), (OFFICER,),
        "录入或覆盖某一年的法定节假日（落在工作日的）和调休工作日（落在周末的），用于计算审批期限。",
        _ADMIN,
        ("NOT_ADMIN", "YEAR_INVALID", "DATE_OUTSIDE_YEAR", "NAME_INVALID", "CONCURRENT_UPDATE"),
        ("RV-4",)),
    # ---- 运维 ----------------------------------------------------------------
    "Healthz": Operation(
        "健康检查", ("运维",), (PUBLIC,),
        "网关进程存活时返回 `{\"status\": \"ok\"}`，供编排系统探测。",
        "任何人（无需登录）。"),
    # ---- 消息 ----------------------------------------------------------------
    "ListMessages": Operation(
        "我的消息", ("消息",), (APPLICANT, OFFICER),
        "按时间倒序列出当前用户的消息（申请人：本单位/本人的申请动态；审批人员：本省的待办与期限提醒），"
        "每条带有跳转链接（申请、案件或许可证）和是否已读；同时返回未读数。可只列未读消息。",
        _INBOX,
        ("INBOX_REQUIRED", "INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN"),
        ("MS-1", "MS-2")),
    "GetUnreadCount": Operation(
        "未读消息数", ("消息",), (APPLICANT, OFFICER),
        "返回当前用户的未读消息数（首页角标）。已读状态按用户记录：同一单位的另一位用户读过不影响本人的未读数。",
        _INBOX,
        ("INBOX_REQUIRED",),
        ("MS-1", "MS-2")),
    "MarkMessageRead": Operation(
        "标记消息已读", ("消息",), (APPLICANT, OFFICER),
        "把一条消息标记为已读；重复标记不报错。别人的消息返回不存在。",
        _INBOX,
        ("MESSAGE_NOT_FOUND", "INBOX_REQUIRED"),
        ("MS-1", "MS-2")),
    "MarkAllMessagesRead": Operation(
        "全部标为已读", ("消息",), (APPLICANT, OFFICER),
        "把当前用户的全部消息标记为已读，返回此前的未读条数。",
        _INBOX,
        ("INBOX_REQUIRED",),
        ("MS-1", "MS-2")),
    "CreateWebhook": Operation(
        "登记消息推送地址", ("消息推送地址",), (APPLICANT,),
        "企业登记一个 HTTPS 接收地址：此后本单位的每条消息以 JSON 推送到该地址，请求头 `X-Permit-Timestamp` 为时间戳，"
        "`X-Permit-Signature` 为 `sha256=` 加上以签名密钥对“时间戳.请求体”计算的 HMAC-SHA256（十六进制）。"
        "返回的 `secret` 只显示这一次，请妥善保存。接收方返回 2xx 即为成功，否则按退避间隔重试。",
        _PARTY,
        ("WEBHOOK_URL_INVALID", "WEBHOOK_URL_NOT_HTTPS", "TOO_MANY_WEBHOOKS", "PARTY_REQUIRED"),
        ("MS-3",)),
    "ListWebhooks": Operation(
        "消息推送地址列表", ("消息推送地址",), (APPLICANT,),
        "列出本单位登记的推送地址（不含签名密钥）。",
        _PARTY,
        ("INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN", "PARTY_REQUIRED"),
        ("MS-3",)),
    "DeleteWebhook": Operation(
        "删除消息推送地址", ("消息推送地址",), (APPLICANT,),
        "删除本单位的一个推送地址，尚未送达的推送随之停止。",
        _PARTY,
        ("WEBHOOK_NOT_FOUND", "PARTY_REQUIRED"),
        ("MS-3",)),
    "ListWebhookDeliveries": Operation(
        "推送记录", ("消息推送地址",), (APPLICANT,),
        "按时间倒序列出一个推送地址的推送记录：状态（待推送、已送达、已放弃）、尝试次数、最近一次的 HTTP 状态码与错误。",
        _PARTY,
        ("WEBHOOK_NOT_FOUND", "INVALID_PAGE_SIZE", "INVALID_PAGE_TOKEN", "PARTY_REQUIRED"),
        ("MS-3",)),
}
