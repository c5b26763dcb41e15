"""The SIP stack (RFC 3261) the probe, the trunk checks and the twin's user agents share.

Layers, each calling only the public methods of the one below it:

* :mod:`.message`: parse and build requests and responses (sipmessage underneath);
* :mod:`.transport`: UDP and TCP sockets, framing, peers;
* :mod:`.transaction`: client and server transactions (RFC 3261 §17), timers;
* :mod:`.stack`: one socket set with its transactions, the dispatcher of requests and responses;
* :mod:`.dialog`: dialogs, route sets, in-dialog requests (RFC 3261 §12);
* :mod:`.call_base`, :mod:`.call`: an INVITE session with its SDP offer/answer and RTP;
* :mod:`.ua`: a user agent (UAC and UAS) on a stack;
* :mod:`.proxy`: a record-routing proxy for Record-Route checks;
* :mod:`.ladder`: the call ladder drawn from a transcript;
* :mod:`.options`: the OPTIONS probe (one request, its answer and its time).
"""
