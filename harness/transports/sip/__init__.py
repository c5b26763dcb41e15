"""The SIP stack (RFC 3261) the probe, the trunk checks and the twin's user agents share.

Layers, from the bottom; each calls only the public methods of the ones below it, and knows the
ones above only through a small :class:`typing.Protocol` it is given:

* :mod:`.message`: parse and build requests and responses (sipmessage underneath), no I/O;
* :mod:`.transport`: :class:`~.transport.SipTransport`, the UDP socket, TCP listener and
  connections of one stack, framing, :class:`~.transport.Peer`; hands its input to a
  :class:`~.transport.MessageSink`;
* :mod:`.transaction`: client and server transactions (RFC 3261 §17) and their timers; send
  through a :class:`~.transaction.TransactionSender`;
* :mod:`.stack`: :class:`~.stack.SipStack`, the sink and sender of one transport's transactions:
  matching, CANCEL, malformed input, transcript and observers; hands requests to a
  :class:`~.stack.SipHandler`;
* :mod:`.options`: :class:`~.options.OptionsResult`, what an OPTIONS transaction found;
* :mod:`.dialog`: dialogs, route sets, in-dialog requests (RFC 3261 §12);
* :mod:`.call_base`, :mod:`.call`: an INVITE session with its SDP offer/answer and RTP; knows
  its user agent as a :class:`~.call_base.CallOwner`;
* :mod:`.ua`: a user agent (UAC and UAS, and the OPTIONS probe) on a stack, asyncio and sync;

and beside them :mod:`.ladder` (the call ladder drawn from a transcript) and :mod:`.proxy` (a
record-routing proxy for Record-Route checks).
"""
