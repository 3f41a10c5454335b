"""CSV imports end to end (POST /api/v1/imports, commit, the RQ worker) against COPY / INSERT."""

from __future__ import annotations

import io
import os
import statistics
import time

from bench.env import Bench, BenchError, cpu_between, cpu_of, rows_csv
from bench.report import Result

RSS_LIMIT_MB = 256


def _import(bench: Bench, tenant, content: bytes, filename: str, **form) -> tuple[float, float, dict]:
    """Preview then commit one file through the admin API; returns (preview s, job s, operation result)."""
    start = time.perf_counter()
    import_id = upload_preview(bench, tenant, content, filename, **form)
    previewed = time.perf_counter()
    result = bench.wait_operation(commit(bench, tenant, import_id))
    return previewed - start, time.perf_counter() - previewed, result


def upload_preview(bench: Bench, tenant, content: bytes, filename: str, **form) -> int:
    """POST /api/v1/imports (the preview); returns the import's id, or raises on any row error."""
    data = {k: str(v) for k, v in form.items()}
    data["file"] = (io.BytesIO(content), filename)
    r = bench.client.post("/api/v1/imports", data=data, headers=tenant.admin, content_type="multipart/form-data")
    if r.status_code != 201 or r.json["error_count"]:
        raise BenchError(f"import preview: {r.status_code} {str(r.json)[:500]}")
    return r.json["id"]


def commit(bench: Bench, tenant, import_id: int) -> int:
    """POST /api/v1/imports/{id}/commit; returns the Operation's id."""
    c = bench.client.post(f"/api/v1/imports/{import_id}/commit", headers=tenant.admin)
    if c.status_code != 202:
        raise BenchError(f"import commit: {c.status_code} {c.json}")
    return c.json["operation_id"]


def member_import(bench: Bench, n: int) -> list[Result]:
    """n existing users listed by email into one group vs COPY of the same (group_id, user_id) rows."""
    tenant = bench.tenant()
    lo, hi = bench.seed_users(tenant.id, n, "member")
    ours_group = bench.seed_group(tenant.id, "Imported")
    copy_group = bench.seed_group(tenant.id, "Copied")
    rows = bench.sql("SELECT id, email FROM users WHERE tenant_id = %(t)s ORDER BY id", {"t": tenant.id})
    content = rows_csv("email", ((email,) for _, email in rows))

    with bench.worker() as worker:
        preview_s, job_s, result = _import(bench, tenant, content, "members.csv", format="members", group_id=ours_group)
    members = bench.scalar("SELECT count(*) FROM memberships WHERE group_id = %(g)s", {"g": ours_group})
    if members != n:
        raise BenchError(f"member import added {members} of {n} members ({result})")

    with bench.raw() as conn:
        start = time.perf_counter()
        with conn.cursor().copy("COPY memberships (group_id, user_id, tenant_id, source, added_at) FROM STDIN") as copy:
            for user_id, _ in rows:
                copy.write_row((copy_group, user_id, tenant.id, "csv", "now"))
        conn.commit()
        copy_s = time.perf_counter() - start
    peak = worker.peak_rss_mb or 0.0
    return [
        Result(
            "member CSV import",
            n,
            preview_s + job_s,
            copy_s,
            ours_label="API preview + commit + RQ worker",
            baseline_label="COPY memberships",
            target=4,
            limits={"worker peak RSS MB": {"value": peak, "max": RSS_LIMIT_MB}},
            extra={
                "preview_s": round(preview_s, 3),
                "job_s": round(job_s, 3),
                "csv_bytes": len(content),
                "worker_idle_rss_mb": round(worker.idle_rss_mb or 0, 1),
                "worker_peak_rss_mb": round(peak, 1),
            },
        )
    ]


def user_import(bench: Bench, n: int) -> list[Result]:
    """n new users from CSV vs one raw INSERT of the same rows (into a second tenant, same table)."""
    tenant, other = bench.tenant(), bench.tenant()
    people = [(f"new{i}@example.com", f"new{i}", f"Given{i}", f"Family{i}", f"D{i % 37}") for i in range(1, n + 1)]
    content = rows_csv("email,username,first_name,last_name,department", people)
    with bench.worker() as worker:
        preview_s, job_s, result = _import(bench, tenant, content, "users.csv", format="users")
    created = bench.scalar("SELECT count(*) FROM users WHERE tenant_id = %(t)s", {"t": tenant.id})
    if created != n:
        raise BenchError(f"user import created {created} of {n} users ({result})")

    columns = list(zip(*people))
    with bench.raw() as conn:
        start = time.perf_counter()
        conn.execute(
            """
            INSERT INTO users (tenant_id, email, username, email_key, username_key, given_name, family_name, department,
                               active, status, role, custom_attributes, extra, created_at, updated_at, version)
            SELECT %(t)s, e, u, lower(e), lower(u), g, f, d, true, 'active', 'learner', '{}'::jsonb, '{}'::jsonb,
                   now(), now(), 1
            FROM unnest(%(e)s::text[], %(u)s::text[], %(g)s::text[], %(f)s::text[], %(d)s::text[]) AS r(e, u, g, f, d)
        """,
            {
                "t": other.id,
                "e": list(columns[0]),
                "u": list(columns[1]),
                "g": list(columns[2]),
                "f": list(columns[3]),
                "d": list(columns[4]),
            },
        )
        conn.commit()
        insert_s = time.perf_counter() - start
    return [
        Result(
            "user CSV import",
            n,
            preview_s + job_s,
            insert_s,
            ours_label="API preview + commit + RQ worker",
            baseline_label="INSERT ... SELECT unnest",
            target=3,
            extra={
                "preview_s": round(preview_s, 3),
                "job_s": round(job_s, 3),
                "worker_peak_rss_mb": round(worker.peak_rss_mb or 0, 1),
            },
        )
    ]


BULK_ADD_ROUNDS = 3
BULK_ADD_BASELINE = """
    WITH u AS (
        INSERT INTO users (tenant_id, email, username, email_key, username_key, given_name, family_name,
                           language, department, active, status, role, custom_attributes, extra,
                           created_at, updated_at, version)
        SELECT %(t)s, e, u, lower(e), lower(u), g, f, l, d, true, 'invited', 'learner', '{}'::jsonb,
               '{}'::jsonb, now(), now(), 1
        FROM unnest(%(u)s::text[], %(e)s::text[], %(g)s::text[], %(f)s::text[], %(l)s::text[],
                    %(d)s::text[]) AS r(u, e, g, f, l, d)
        RETURNING id, email, given_name
    ), m AS (
        INSERT INTO memberships (group_id, user_id, tenant_id, source, added_at)
        SELECT %(g_id)s, id, %(t)s, 'csv', now() FROM u
    ), i AS (
        INSERT INTO invitations (user_id, tenant_id, status, sent_count, invited_by, created_at, last_sent_at)
        SELECT id, %(t)s, 'pending', 1, 'bench', now(), now() FROM u
    )
    INSERT INTO email_messages (tenant_id, user_id, kind, to_address, subject, text_body, html_body, status,
                                attempts, next_attempt_at, created_at, updated_at)
    SELECT %(t)s, id, 'invitation', email, 'You are invited to join Bench',
           'Hello ' || given_name || E',\n\nJoin here: https://lms.example.edu/join\n',
           '<p>Hello ' || given_name || '</p><p><a href="https://lms.example.edu/join">Join</a></p>',
           'queued', 0, now(), now(), now()
    FROM u
"""


def _bulk_add_ours(bench: Bench, worker, n: int, content: bytes) -> tuple[float, float, float | None]:
    """One bulk add through the product into a new tenant's group: (preview s, job s, CPU s)."""
    tenant = bench.tenant()
    bench.sql(
        'UPDATE tenants SET settings = settings || \'{"join_url": "https://lms.example.edu/join"}\'::jsonb '
        "WHERE id = %(t)s",
        {"t": tenant.id},
    )
    group = bench.seed_group(tenant.id, "Bulk added")
    cpu_before = bench.cpu_snapshot(worker.proc.pid)
    preview_s, job_s, result = _import(bench, tenant, content, "bulk-add-members.csv", group_id=group)
    cpu = cpu_between(cpu_before, bench.cpu_snapshot(worker.proc.pid))
    members = bench.scalar("SELECT count(*) FROM memberships WHERE group_id = %(g)s", {"g": group})
    emails = bench.scalar(
        "SELECT count(*) FROM email_messages WHERE tenant_id = %(t)s AND kind = 'invitation'", {"t": tenant.id}
    )
    if members != n or emails != n or result.get("invited") != n:
        raise BenchError(f"bulk add: {members} members and {emails} invitations of {n} ({result})")
    return preview_s, job_s, cpu


def _bulk_add_baseline(bench: Bench, people: list[tuple[str, ...]]) -> tuple[float, float | None]:
    """The same rows by hand into a new tenant, one statement: (wall s, CPU s of its session and this client)."""
    other = bench.tenant()
    twin = bench.seed_group(other.id, "Inserted")
    columns = [list(c) for c in zip(*people)]
    with bench.raw() as conn:
        session: dict[int, str | None] = {os.getpid(): None, conn.info.backend_pid: "postgres"}
        cpu_before = cpu_of(session)
        start = time.perf_counter()
        conn.execute(
            BULK_ADD_BASELINE,
            {"t": other.id, "g_id": twin, **dict(zip(("u", "e", "g", "f", "l", "d"), columns))},
        )
        conn.commit()
        return time.perf_counter() - start, cpu_between(cpu_before, cpu_of(session))


def bulk_add_members(bench: Bench, n: int) -> list[Result]:
    """Bulk add (issue 17): n new people from the bulk-add template into one group, each invited by email,
    vs raw INSERTs of the same rows: users, memberships, invitations and outbox emails (another tenant).

    BULK_ADD_ROUNDS rounds, ours and the baseline alternating which goes first, each into fresh tenants; the
    medians count.  One run of either scattered 2-5 fold on a shared machine (bench/README.md), so the CPU
    each takes (this process, the worker and the database sessions; /proc) is reported beside the wall
    clock: what the work costs whatever else the machine does meanwhile."""
    people = [
        (f"new{i}", f"new{i}@example.com", f"Given{i}", f"Family{i}", "de" if i % 2 else "en", f"D{i % 37}")
        for i in range(1, n + 1)
    ]
    content = rows_csv("username,email,first_name,last_name,language,department", people)
    ours: list[tuple[float, float, float | None]] = []
    base: list[tuple[float, float | None]] = []
    with bench.worker() as worker:
        for r in range(BULK_ADD_ROUNDS):
            if r % 2:
                base.append(_bulk_add_baseline(bench, people))
                ours.append(_bulk_add_ours(bench, worker, n, content))
            else:
                ours.append(_bulk_add_ours(bench, worker, n, content))
                base.append(_bulk_add_baseline(bench, people))
    walls = [p + j for p, j, _ in ours]
    median = statistics.median
    results = [
        Result(
            "bulk add members (create + add + invite)",
            n,
            median(walls),
            median(b for b, _ in base),
            ours_label=f"API preview + commit + RQ worker, median of {BULK_ADD_ROUNDS}",
            baseline_label=f"INSERT users, memberships, invitations, email_messages (unnest), median of {BULK_ADD_ROUNDS}",
            target=3,
            limits={"worker peak RSS MB": {"value": worker.peak_rss_mb or 0.0, "max": RSS_LIMIT_MB}},
            extra={
                "runs_s": [round(w, 3) for w in walls],
                "baseline_runs_s": [round(b, 3) for b, _ in base],
                "preview_s": round(median(p for p, _, _ in ours), 3),
                "job_s": round(median(j for _, j, _ in ours), 3),
                "worker_peak_rss_mb": round(worker.peak_rss_mb or 0, 1),
            },
        )
    ]
    ours_cpu = [c for _, _, c in ours if c]
    base_cpu = [c for _, c in base if c]
    if len(ours_cpu) == len(base_cpu) == BULK_ADD_ROUNDS:
        results.append(
            Result(
                "... the same in CPU",
                n,
                median(ours_cpu),
                median(base_cpu),
                ours_label="CPU of the API (this process), the worker and their PostgreSQL sessions, median",
                baseline_label="CPU of the INSERTs' PostgreSQL session and this client, median",
                target=3,
                extra={"runs_s": [round(c, 3) for c in ours_cpu], "baseline_runs_s": [round(c, 3) for c in base_cpu]},
            )
        )
    return results
