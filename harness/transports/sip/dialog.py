"""Dialogs (RFC 3261 §12): identity, CSeq, route set and remote target, and requests inside them.

* A UAC builds its dialog from the 18x/2xx that carries a To tag (§12.1.2): route set = the
  response's Record-Route in **reverse** order, remote target = its Contact. A 2xx recomputes
  both (§13.2.2.4).
* A UAS builds it from the INVITE (§12.1.1): route set = Record-Route in order, remote target =
  Contact; the Record-Route is copied into its 18x/2xx by
  :func:`~harness.transports.sip.message.build_response`. An INVITE in RFC 2543 form (no Contact,
  no From tag, no branch) is taken, as RFC 4475 §3.4.1 asks of an RFC 3261 element that keeps
  backward compatibility: without Contact the remote target is the From URI (where an RFC 2543 UA
  takes requests), a missing From tag is the empty remote tag (§12.1.1: "null").
* Requests inside the dialog (§12.2.1.1, proxies per §16.12): no route set → Request-URI = remote
  target, no Route. First route loose (``;lr``) → Request-URI = remote target, Route = the route
  set, sent to the first route. First route strict → Request-URI = the first route's URI, Route =
  the rest plus the remote target, sent to that URI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipmessage import Address, Request, Response

from .message import Target, build_request, tag_of, uri_target


@dataclass(frozen=True)
class RoutedRequest:
    """Where an in-dialog request goes: its Request-URI, its Route values, and the next hop."""

    uri: str
    route: tuple[str, ...]
    next_hop: Target


def route_request(remote_target: str, route_set: list[str], transport: str) -> RoutedRequest:
    """Request-URI, Route header values and next hop for a request in a dialog (§12.2.1.1).

    Raises:
        ValueError: a route or the remote target is not a SIP URI.
    """
    if not route_set:
        return RoutedRequest(remote_target, (), uri_target(remote_target, transport))
    first = Address.parse(route_set[0]).uri
    if "lr" in first.parameters:
        return RoutedRequest(remote_target, tuple(route_set), uri_target(str(first), transport))
    strict_uri = str(first)
    rest = (*route_set[1:], f"<{remote_target}>")
    return RoutedRequest(strict_uri, rest, uri_target(strict_uri, transport))


@dataclass
class Dialog:
    """One dialog of an INVITE (call).

    Attributes:
        call_id, local_tag, remote_tag: the dialog id (§12).
        local_header / remote_header: From/To values of each side, tags included, as on the wire.
        local_seq: CSeq of the last request this side sent; remote_seq: of the last one received.
        remote_target: the peer's Contact URI. route_set: Route values, in order of use.
        transport: ``"udp"``/``"tcp"``, the one the dialog was set up on (default for next hops).
        confirmed: a 2xx was sent or received.
    """

    call_id: str
    local_tag: str
    remote_tag: str
    local_header: str
    remote_header: str
    local_seq: int
    remote_seq: int | None
    remote_target: str
    route_set: list[str] = field(default_factory=list)
    transport: str = "udp"
    confirmed: bool = False

    @classmethod
    def as_uac(cls, invite: Request, resp: Response, transport: str) -> Dialog:
        """The dialog an 18x/2xx with a To tag creates (§12.1.2). Raises ValueError without Contact."""
        remote_tag = tag_of(resp.headers.get("To")) or ""
        return cls(invite.call_id, tag_of(invite.headers.get("From")) or "", remote_tag,
                   invite.headers["From"], resp.headers["To"], invite.cseq.sequence, None,
                   _contact(resp, invite), [str(a) for a in reversed(resp.record_route)], transport,
                   200 <= resp.code < 300)

    @classmethod
    def as_uas(cls, invite: Request, local_tag: str, transport: str) -> Dialog:
        """The dialog this side creates by answering ``invite`` (§12.1.1)."""
        to = invite.headers["To"]
        local_header = to if tag_of(to) else f"{to};tag={local_tag}"
        return cls(invite.call_id, local_tag, tag_of(invite.headers.get("From")) or "", local_header,
                   invite.headers["From"], 0, invite.cseq.sequence, _contact(invite, None),
                   [str(a) for a in invite.record_route], transport)

    def refresh(self, msg: Request | Response, recompute_routes: bool = False) -> None:
        """Target refresh (re-INVITE or its 2xx, §12.2): the new Contact; a UAC's 2xx may also
        recompute the route set (§13.2.2.4)."""
        if msg.contact:
            self.remote_target = str(msg.contact[0].uri)
        if recompute_routes and isinstance(msg, Response):
            self.route_set = [str(a) for a in reversed(msg.record_route)]
            self.remote_tag = tag_of(msg.headers.get("To")) or self.remote_tag
            self.remote_header = msg.headers["To"]

    def matches(self, msg: Request) -> bool:
        """``msg`` (a request from the peer) belongs to this dialog."""
        return (msg.call_id == self.call_id and tag_of(msg.headers.get("To")) == self.local_tag
                and (tag_of(msg.headers.get("From")) or "") == self.remote_tag)

    def request(self, method: str, via: str, *, contact: str | None = None, body: bytes = b"",
                content_type: str | None = None, extra: tuple[tuple[str, str], ...] = (),
                cseq: int | None = None, user_agent: str | None = None) -> tuple[Request, Target]:
        """A request inside the dialog and its next hop. CSeq grows by one except for ACK (pass
        ``cseq``, the INVITE's). ``via`` is built by the caller (``stack.via(transport, branch)``)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        routed = route_request(self.remote_target, self.route_set, self.transport)
        req = build_request(method, routed.uri, via=via, from_=self.local_header, to=self.remote_header,
                            call_id=self.call_id, cseq=cseq, contact=contact, route=routed.route, extra=extra,
                            body=body, content_type=content_type, user_agent=user_agent)
        return req, routed.next_hop


def _contact(msg: Request | Response, fallback: Request | None) -> str:
    try:
        contacts = msg.contact
    except ValueError:
        contacts = []
    if contacts:
        return str(contacts[0].uri)
    if fallback is not None:  # no Contact in the answer: keep talking to the Request-URI
        return str(fallback.uri)
    if isinstance(msg, Request):  # RFC 2543 form: the caller is reached at its From address
        return str(msg.from_address.uri)
    raise ValueError("request has no Contact")
