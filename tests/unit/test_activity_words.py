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


def test_every_channel_an_event_can_come_through_has_its_words():
    from provisioning.activity_words import CHANNEL_WORDS
    from provisioning.models import CHANNELS

    assert set(CHANNEL_WORDS) == set(CHANNELS)
    assert all(":" not in words and words[0].isupper() for words in CHANNEL_WORDS.values())
