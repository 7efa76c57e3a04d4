"""Domain errors of the documents service (stable reason codes, Chinese messages)."""

from __future__ import annotations

from permitkit.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

DOMAIN = "permit.documents"

CONVERT_ADVICE = "请将图片转换为 JPG 或 PNG 格式后重新上传。"


class UploadHeaderMissing(InvalidArgument):
    reason = "UPLOAD_HEADER_MISSING"
    message = "上传请求格式有误：第一条消息必须是文件信息（header），且只能出现一次。"


class DocumentKindMissing(InvalidArgument):
    reason = "DOCUMENT_KIND_MISSING"
    message = "请选择要上传的材料类型。"


class FileEmpty(InvalidArgument):
    reason = "FILE_EMPTY"
    message = "上传的文件是空的，请重新选择文件。"


class FileTooLarge(InvalidArgument):
    reason = "FILE_TOO_LARGE"
    message = "文件大小不能超过 1MB（1,048,576 字节），请压缩后重新上传。"


class UnsupportedImageFormat(InvalidArgument):
    reason = "UNSUPPORTED_IMAGE_FORMAT"
    message = "不支持该图片格式。" + CONVERT_ADVICE


class UnsupportedFormat(InvalidArgument):
    reason = "UNSUPPORTED_FORMAT"
    message = "不支持该文件格式，请上传 JPG、PNG 图片或 PDF、DOC、DOCX 文件。"


class FormatNotAllowed(InvalidArgument):
    reason = "FORMAT_NOT_ALLOWED"
    message = "该材料不接受此文件格式。"


class FileCorrupt(InvalidArgument):
    reason = "FILE_CORRUPT"
    message = "文件已损坏或不完整，无法打开，请重新生成文件后上传。"


class FilePolyglot(InvalidArgument):
    reason = "FILE_POLYGLOT"
    message = "文件中夹带了其他类型的内容，出于安全原因不能上传，请重新导出文件后上传。"


class FileMislabelled(InvalidArgument):
    reason = "FILE_MISLABELLED"
    message = "文件的扩展名或类型与实际内容不符，请确认文件后重新上传。"


class ArchiveUnsafe(InvalidArgument):
    reason = "ARCHIVE_UNSAFE"
    message = "文档结构异常（可能包含压缩炸弹或非法路径），出于安全原因不能上传。"


class ActiveContent(InvalidArgument):
    reason = "FILE_ACTIVE_CONTENT"
    message = "文件包含宏、脚本或嵌入程序，出于安全原因不能上传，请另存为不含宏的文件后上传。"


class ImageTooLarge(InvalidArgument):
    reason = "IMAGE_TOO_LARGE"
    message = "图片像素尺寸过大，请缩小图片后重新上传。"


class KindReserved(InvalidArgument):
    reason = "DOCUMENT_KIND_RESERVED"
    message = "该类材料由系统生成，不能上传。"


class KindNotStored(InvalidArgument):
    reason = "DOCUMENT_KIND_NOT_STORED"
    message = "该类材料须由申请人上传，不能由系统代存。"


class OwnerInvalid(InvalidArgument):
    reason = "OWNER_INVALID"
    message = "材料所属的申请人无效。"


class NotApplicant(PermissionDenied):
    reason = "NOT_APPLICANT"
    message = "请以申请人身份登录后再上传材料。"


class DocumentNotFound(NotFound):
    reason = "DOCUMENT_NOT_FOUND"
    message = "未找到该材料。"


class DocumentNotOwned(PermissionDenied):
    reason = "DOCUMENT_NOT_OWNED"
    message = "材料不属于该申请人，不能授权审核人员查看。"


class DocumentInReview(FailedPrecondition):
    reason = "DOCUMENT_IN_REVIEW"
    message = "该材料已被提交审核的申请使用，不能删除。"


class DownloadTokenInvalid(PermissionDenied):
    reason = "DOWNLOAD_TOKEN_INVALID"
    message = "下载链接无效，请重新获取。"


class DownloadTokenExpired(PermissionDenied):
    reason = "DOWNLOAD_TOKEN_EXPIRED"
    message = "下载链接已过期，请重新获取。"


class IssuedDocumentKept(FailedPrecondition):
    reason = "CERTIFICATE_KEPT"
    message = "许可证件由审批机关签发，不能删除；许可废止后证件随之失效。"


class ServiceRoleRequired(PermissionDenied):
    reason = "SERVICE_ROLE_REQUIRED"
    message = "该接口仅供内部服务调用。"


class StorageUnavailable(Unavailable):
    """The object store cannot be reached; the message says what to do again (upload or download)."""

    reason = "STORAGE_UNAVAILABLE"
    message = "文件存储服务暂时不可用，请稍后重试。"


STORAGE_UNAVAILABLE_UPLOAD = "文件存储服务暂时不可用，请稍后重新上传。"
STORAGE_UNAVAILABLE_DOWNLOAD = "文件存储服务暂时不可用，请稍后再下载。"
