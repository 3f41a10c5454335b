"""Typed job checkpoints read what earlier versions stored and write the same JSON."""

from provisioning.batch.actions import BatchCheckpoint
from provisioning.lti.roster import RosterCheckpoint
from provisioning.mail.outbox import SendCheckpoint
from provisioning.rules.evaluation import EvaluationCheckpoint
from provisioning.services.memberships import CopyCheckpoint


def test_a_rule_evaluation_checkpoint_stored_before_typing_loads_and_is_written_back_unchanged():
    stored = {"after_user_id": 5000, "done": 5000, "added": 12, "removed": 3}
    at = EvaluationCheckpoint.from_json(stored)
    assert (at.after_user_id, at.done, at.added, at.removed, at.chunk) == (5000, 5000, 12, 3, None)
    assert at.to_json() == stored  # no "chunk" key until a run sizes the next chunk


def test_an_empty_or_missing_checkpoint_is_the_start_and_unknown_keys_are_dropped():
    assert EvaluationCheckpoint.from_json(None) == EvaluationCheckpoint()
    assert CopyCheckpoint.from_json({}) == CopyCheckpoint(after_user_id=0, done=0, added=0)
    assert CopyCheckpoint.from_json({"after_user_id": 7, "done": 2, "added": 1, "obsolete": True}).to_json() == {
        "after_user_id": 7,
        "done": 2,
        "added": 1,
    }


def test_a_roster_checkpoint_keeps_its_mode_and_next_page_and_reports_its_counts():
    stored = {
        "mode": "diff",
        "url": "https://lms.example/nrps?page=2",
        "done": 40,
        "added": 2,
        "removed": 1,
        "created": 2,
    }
    at = RosterCheckpoint.from_json(stored)
    assert at.to_json() == stored
    assert at.result(group_id=9) == {
        "group_id": 9,
        "mode": "diff",
        "members_read": 40,
        "added": 2,
        "removed": 1,
        "users_created": 2,
    }


def test_a_sending_checkpoint_counts_every_outcome_even_when_none_happened_yet():
    assert SendCheckpoint.from_json({"sent": 3}).to_json() == {"sent": 3, "retried": 0, "failed": 0}


def test_a_batch_action_checkpoint_keeps_its_ranges_counts_and_chunk_size_in_the_stored_shape():
    stored = {
        "after": 4000,
        "chunks": 2,
        "counts": {"changed": 3990, "processed": 4000, "failed": 10},
        "done_ranges": [[1, 1990], [2001, 4000]],
        "reevaluate_all": False,
        "chunk_size": 2000,
    }
    assert BatchCheckpoint.from_json(stored).to_json() == stored
    assert BatchCheckpoint.from_json(None).to_json() == {
        "after": 0,
        "chunks": 0,
        "counts": {},
        "done_ranges": [],
        "reevaluate_all": False,
    }
