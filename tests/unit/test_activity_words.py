"""The activity log's actions read as words (provisioning/activity_words.py), never as dotted names."""

from __future__ import annotations

from provisioning.activity_words import event_words


def test_known_actions_read_as_words():
    assert event_words("group.member_added") == "Member added to a group"
    assert event_words("group.invitation.sent") == "Invitation to a group sent"


def test_operation_events_read_with_their_types_words():
    assert event_words("operation.members_bulk_add.requested") == "Bulk add members started"
    assert event_words("operation.import.succeeded") == "Import finished"


def test_an_unknown_action_still_reads_as_words():
    assert event_words("widget.frobbed_twice") == "Widget frobbed twice"
