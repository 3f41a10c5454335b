"""The activity log's actions read as words (provisioning/activity_words.py), never as dotted names."""

from __future__ import annotations

from provisioning.activity_words import action_sentence


def test_known_actions_read_as_words():
    assert action_sentence("group.member_added").english() == "Added a member to the group"
    assert action_sentence("group.invitation.sent").english() == "Invited someone to join the group"


def test_operation_events_read_with_their_types_words():
    assert action_sentence("operation.members_bulk_add.requested").english() == "Started: Bulk add members"
    assert action_sentence("operation.import.succeeded").english().startswith("Finished: ")


def test_an_unknown_action_still_reads_as_words():
    assert action_sentence("widget.frobbed_twice").english() == "Widget: frobbed twice"
