"""Use cases of the inbox and the webhooks (MS-1, MS-3)."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from permit_notifications import errors
from permit_notifications.models import Delivery, Message, Webhook
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.access import signed_in
from permitkit.context import Principal
from permitkit.paging import Page, PageRequest, scope_of

MAX_WEBHOOKS = 5


def new_id() -> str:
    return uuid.uuid4().hex


def audiences_of(principal: Principal | None) -> tuple[str, ...]:
    """Whose messages the caller sees: their party's, or their province's as an officer."""
    principal = signed_in(principal)
    out: list[str] = []
    if principal.party:
        out.append(principal.party)
    if principal.province and not principal.party:
        out.append(f"provinces/{principal.province}")
    if not out:
        raise errors.InboxRequired()
    return tuple(out)


def _party(principal: Principal | None) -> str:
    principal = signed_in(principal)
    if not principal.party:
        raise errors.PartyRequired()
    return principal.party


@dataclass(frozen=True)
class InboxItem:
    message: Message
    read: bool


def list_messages(uow: NotificationsUnitOfWork, *, principal: Principal | None, page_size: int,
                  page_token: str, unread_only: bool) -> tuple[Page[InboxItem], int]:
    """The caller's messages, newest first, with the unread count."""
    audiences = audiences_of(principal)
    assert principal is not None
    req = PageRequest.of(page_size=page_size, page_token=page_token, default=20, maximum=100,
                         scope=scope_of("messages", principal.subject, ",".join(audiences), str(unread_only)))
    with uow:
        rows = uow.inbox.page(audiences, principal.subject, offset=req.offset, limit=req.limit,
                              unread_only=unread_only)
        unread = uow.inbox.unread_count(audiences, principal.subject)
    return req.cut([InboxItem(m, r) for m, r in rows]), unread


def unread_count(uow: NotificationsUnitOfWork, *, principal: Principal | None) -> int:
    audiences = audiences_of(principal)
    assert principal is not None
    with uow:
        return uow.inbox.unread_count(audiences, principal.subject)


def _message_id(name: str) -> str:
    prefix, _, ident = name.partition("/")
    if prefix != "messages" or not ident or "/" in ident:
        raise errors.MessageNotFound(field="name")
    return ident


def mark_read(uow: NotificationsUnitOfWork, *, principal: Principal | None, name: str) -> InboxItem:
    """Marks one of the caller's messages read; another inbox's message is not found."""
    audiences = audiences_of(principal)
    assert principal is not None
    ident = _message_id(name)
    with uow:
        msg = uow.inbox.get(ident)
        if msg is None or not msg.visible_to(audiences):
            raise errors.MessageNotFound(field="name")
        uow.inbox.mark_read(msg, principal.subject)
        uow.commit()
        return InboxItem(msg, True)


def mark_all_read(uow: NotificationsUnitOfWork, *, principal: Principal | None) -> int:
    audiences = audiences_of(principal)
    assert principal is not None
    with uow:
        n = uow.inbox.mark_all_read(audiences, principal.subject)
        uow.commit()
        return n


def check_webhook_url(url: str, *, allow_http_loopback: bool) -> str:
    """HTTPS only; plain HTTP only to a loopback address when the setting allows it (development)."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 500 or not parts.netloc or parts.scheme not in ("http", "https") or parts.username \
            or parts.password or parts.fragment:
        raise errors.WebhookUrlInvalid(field="webhook.url")
    if parts.scheme == "http":
        host = parts.hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not (allow_http_loopback and loopback):
            raise errors.WebhookUrlNotHttps(field="webhook.url")
    return url


def create_webhook(uow: NotificationsUnitOfWork, *, principal: Principal | None, url: str,
                   display_name: str, allow_http_loopback: bool) -> Webhook:
    """Registers a webhook of the caller's party; its secret is answered this once."""
    party = _party(principal)
    url = check_webhook_url(url, allow_http_loopback=allow_http_loopback)
    with uow:
        if len(uow.webhooks.active_for(party)) >= MAX_WEBHOOKS:
            raise errors.TooManyWebhooks()
        hook = uow.webhooks.add(Webhook(public_id=new_id(), party=party, url=url,
                                        display_name=display_name.strip()[:60],
                                        secret="whsec_" + secrets.token_urlsafe(32)))
        uow.commit()
        return hook


def list_webhooks(uow: NotificationsUnitOfWork, *, principal: Principal | None, page_size: int = 0,
                  page_token: str = "") -> Page[Webhook]:
    party = _party(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, default=20, maximum=100,
                         scope=scope_of("webhooks", party))
    with uow:
        return req.window(uow.webhooks.active_for(party))


def _own_webhook(uow: NotificationsUnitOfWork, party: str, name: str, field: str) -> Webhook:
    prefix, _, ident = name.partition("/")
    hook = uow.webhooks.get(ident) if prefix == "webhooks" and ident and "/" not in ident else None
    if hook is None or hook.party != party:
        raise errors.WebhookNotFound(field=field)
    return hook


def delete_webhook(uow: NotificationsUnitOfWork, *, principal: Principal | None, name: str) -> None:
    party = _party(principal)
    from permitkit.db import utcnow

    with uow:
        hook = _own_webhook(uow, party, name, "name")
        hook.delete_time = utcnow()
        uow.deliveries.cancel_for_target(hook.name)
        uow.commit()


def list_deliveries(uow: NotificationsUnitOfWork, *, principal: Principal | None, parent: str,
                    page_size: int, page_token: str) -> Page[tuple[Delivery, Message]]:
    """The delivery log of one of the party's webhooks, newest first."""
    party = _party(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, default=20, maximum=100,
                         scope=scope_of("deliveries", parent))
    with uow:
        hook = _own_webhook(uow, party, parent, "parent")
        return req.cut(uow.deliveries.for_target(hook.name, offset=req.offset, limit=req.limit))
