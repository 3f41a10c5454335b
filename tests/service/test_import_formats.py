"""Import formats behind one protocol: every registered format declares its layout, and the pipeline
(read -> detect -> layout -> validate -> stage -> preview -> apply) dispatches through the registry."""

from __future__ import annotations

import io

import pytest

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.imports import preview as previews
from provisioning.imports import templates
from provisioning.imports.apply import ImportCheckpoint, chunk_size
from provisioning.imports.formats import FORMATS, ImportFormat, detect_format, layout_for
from provisioning.imports.formats.members import MembersFormat
from provisioning.imports.reading import read_table
from provisioning.imports.validate import entries_for_row
from provisioning.models.imports import IMPORT_FORMATS

ADMIN = Actor("test admin", "api")


def test_the_registry_holds_every_format_the_import_model_accepts_in_order():
    assert tuple(FORMATS) == IMPORT_FORMATS
    for name, fmt in FORMATS.items():
        assert isinstance(fmt, ImportFormat)
        assert fmt.name == name


@pytest.mark.parametrize("name", IMPORT_FORMATS)
def test_every_format_declares_its_layout_and_template(name):
    fmt = FORMATS[name]
    assert fmt.example_header and all(fmt.example_header)
    assert len(fmt.example_rows) == 2
    assert all(len(row) == len(fmt.example_header) for row in fmt.example_rows)
    layout = layout_for(name, list(fmt.example_header))
    assert layout.format == name
    assert layout.width == len(fmt.example_header)
    assert layout.email_col is not None or layout.email_cols or "user_id" in layout.user_cols


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("name", IMPORT_FORMATS)
def test_each_template_round_trips_through_the_reader_detection_and_row_validation(name, extension):
    content, _ = templates.template(name, extension)
    table = read_table(io.BytesIO(content), f"{name}.{extension}", max_rows=100)
    assert table.header == list(FORMATS[name].example_header)
    assert detect_format(table.header, has_group_target=False) == name
    layout = layout_for(name, table.header)
    entries = [e for row_no, cells in table.rows for e in entries_for_row(layout, row_no, cells)]
    assert entries, "the example rows give staged entries"
    assert {e["status"] for e in entries} == {"ok"}, entries
    assert {e["row_no"] for e in entries} == {2, 3}


def test_a_file_naming_no_known_column_is_a_file_error_naming_every_template():
    with pytest.raises(InvalidInput) as exc:
        detect_format(["Nothing", "here"], has_group_target=False)
    assert "can't be recognised" in str(exc.value)


def test_a_missing_required_column_points_at_the_format_s_template():
    with pytest.raises(InvalidInput) as exc:
        layout_for("group-users", ["Groupname", "Name"])
    assert "Expected a header row like: Groupname,Email,Email." in str(exc.value)


class _Recording(MembersFormat):
    """The members format, recording which of its methods the pipeline called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def entries(self, layout, row_no, cells):
        self.calls.append("entries")
        return super().entries(layout, row_no, cells)

    def target_group(self, s, tenant_id, imp, *, group_id, group_name):
        self.calls.append("target_group")
        return super().target_group(s, tenant_id, imp, group_id=group_id, group_name=group_name)

    def mark_staged(self, s, imp, email_header, *, just_staged):
        self.calls.append("mark_staged")
        return super().mark_staged(s, imp, email_header, just_staged=just_staged)

    def summarize(self, s, imp, summary, *, groups):
        self.calls.append("summarize")
        return super().summarize(s, imp, summary, groups=groups)


def test_the_preview_pipeline_asks_the_registered_format(rt, tenant, monkeypatch):
    recording = _Recording()
    monkeypatch.setitem(FORMATS, "members", recording)
    content, _ = templates.template("members", "csv")
    options = previews.ImportOptions(format="auto", group_name="New group")
    imp = previews.create_import(rt, tenant.id, io.BytesIO(content), "members.csv", options, ADMIN)
    assert imp.format == "members"
    assert recording.calls[:2] == ["target_group", "entries"]
    assert {"mark_staged", "summarize"} <= set(recording.calls)
    described = previews.describe_import(rt, tenant.id, imp.id)
    assert described["rows"] == 2
    assert described["groups"][0]["name"] == "New group"


@pytest.mark.parametrize("name", IMPORT_FORMATS)
def test_each_template_previews_as_its_format(rt, tenant, name):
    content, _ = templates.template(name, "csv")
    # The members format needs its group; the users format may take one (bulk add), and is tried without.
    group = {"group_name": "Template group"} if name == "members" else {}
    options = previews.ImportOptions(format="auto", **group)
    imp = previews.create_import(rt, tenant.id, io.BytesIO(content), f"{name}.csv", options, ADMIN)
    described = previews.describe_import(rt, tenant.id, imp.id)
    assert described["format"] == name
    assert described["rows"] == 2


def test_replace_mode_is_refused_by_formats_that_replace_no_members(rt, tenant):
    refusing = [name for name, fmt in FORMATS.items() if not fmt.replaces_members]
    assert refusing == ["users", "enrollments"]
    for name in refusing:
        content, _ = templates.template(name, "csv")
        options = previews.ImportOptions(format=name, mode="replace")
        with pytest.raises(InvalidInput) as exc:
            previews.create_import(rt, tenant.id, io.BytesIO(content), f"{name}.csv", options, ADMIN)
        assert f"not to the {name} format" in str(exc.value)


# --- the job's checkpoint and chunk sizes -------------------------------------------------------


def test_a_checkpoint_stored_before_the_dataclass_loads_and_is_written_back_the_same():
    stored = {
        "done": 14,
        "applied": 10,
        "skipped": 2,
        "errors": 2,
        "removed": 0,
        "groups_created": 1,
        "users_created": 0,
        "users_updated": 0,
        "phase": "rows",
        "after": 120,
        "size": 8,
        "last": 200,
    }
    state = ImportCheckpoint.from_json(stored, size=2000)
    assert (state.phase, state.after, state.last, state.size, state.done) == ("rows", 120, 200, 8, 14)
    assert state.to_json() == stored
    assert list(state.to_json()) == list(stored)


def test_an_early_checkpoint_without_every_key_starts_from_the_defaults():
    state = ImportCheckpoint.from_json({"phase": "rows", "done": "3"}, size=50)
    assert (state.phase, state.done, state.after, state.size, state.last) == ("rows", 3, 0, 50, None)
    assert "last" not in state.to_json()
    assert ImportCheckpoint.from_json({}, size=7).to_json()["phase"] == "start"


def test_the_import_chunk_size_follows_the_shared_sizer(rt):
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 100, 1.0
    assert chunk_size(rt, 100, 0.01) == 200  # quick: at most doubles
    assert chunk_size(rt, 400, 5.0) == 200  # slow: at most halves
    assert chunk_size(rt, 150, 5.0) == 100  # never below IMPORT_CHUNK_SIZE
    assert chunk_size(rt, 40_000, 0.01) == 50_000  # never above 50,000 rows
    assert chunk_size(rt, 1000, 1.0) == 1000  # on target: unchanged
    rt.settings.import_chunk_seconds = 0
    assert chunk_size(rt, 800, 0.01) == 100  # 0 keeps IMPORT_CHUNK_SIZE
