"""Attachments to the current test's Allure result (a SIP ladder, a call log, measurements).

Outside an Allure run (no ``--alluredir``) attaching does nothing: the console and summary.md carry
the verdicts either way.
"""

from __future__ import annotations


def attach(name: str, body: str, kind: str = "text") -> None:
    """Attach ``body`` under ``name``; ``kind`` is ``"text"`` or ``"json"``. Never raises."""
    try:
        import allure

        t = allure.attachment_type.JSON if kind == "json" else allure.attachment_type.TEXT
        allure.attach(body, name=name, attachment_type=t)
    except Exception:  # allure not active in this run: nothing to attach to
        pass


def attach_bytes(name: str, body: bytes, kind: str = "pcap") -> None:
    """Attach a binary ``body`` under ``name`` (``kind``: ``"pcap"``, opened by Wireshark). Never raises."""
    try:
        import allure

        t = allure.attachment_type.PCAP if kind == "pcap" else allure.attachment_type.TEXT
        allure.attach(body, name=name, attachment_type=t)
    except Exception:  # allure not active in this run: nothing to attach to
        pass
