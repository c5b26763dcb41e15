"""Evidence of shared reads, without a twin: transcript slices, and which ones a test gets."""

from __future__ import annotations

from harness.evidence.shared import SharedRead, UsedReads, judged_transcripts
from harness.transports.transcript import BOOK, Transcript, TranscriptSlice


def test_a_slice_renders_only_the_entries_between_its_marks() -> None:
    t = Transcript("dev cli 1.2.3.4:22")
    t.sent("before")
    start = t.mark()
    t.sent("show vlan brief")
    t.received("100 VOICE")
    end = t.mark()
    t.sent("after")
    text = t.render(start, end)
    assert "show vlan brief" in text and "100 VOICE" in text
    assert "before" not in text and "after" not in text


def test_a_test_gets_the_slices_of_the_reads_it_used_once_and_not_what_it_wrote_itself() -> None:
    cli = BOOK.open("swx cli 10.0.0.1:22")
    snmp = BOOK.open("swx snmp 10.0.0.1:161")
    marks_first = BOOK.marks()  # the first test starts, and triggers the read
    c0, s0 = cli.mark(), snmp.mark()
    cli.sent("show vlan brief")
    snmp.sent("BULKWALK 1.3.6.1.2.1.2.2.1.2")
    read = SharedRead("switch audit of swx", (TranscriptSlice(cli.name, c0, cli.mark()),
                                              TranscriptSlice(snmp.name, s0, snmp.mark())))
    first = judged_transcripts(marks_first, [read, read])
    assert set(first) == {f"transcript {cli.name}", f"transcript {snmp.name}"}  # its own, not twice

    marks_later = BOOK.marks()  # a later test judges the same audit and reads one counter itself
    cli.sent("show interfaces Gi1/0/2")
    later = judged_transcripts(marks_later, [read])
    assert "show interfaces Gi1/0/2" in later[f"transcript {cli.name}"]
    assert "show vlan brief" not in later[f"transcript {cli.name}"]
    shared_cli = later[f"transcript {cli.name} (switch audit of swx)"]
    assert "show vlan brief" in shared_cli and "show interfaces" not in shared_cli
    assert "BULKWALK" in later[f"transcript {snmp.name} (switch audit of swx)"]


def test_used_reads_are_kept_once_in_order_until_reset() -> None:
    used = UsedReads()
    a, b = SharedRead("a", ()), SharedRead("b", ())
    for r in (a, b, a):
        used.use(r)
    assert used.reset() == [a, b]
    assert used.reset() == []
