"""CSV imports end to end (POST /api/v1/imports, commit, the RQ worker) against COPY / INSERT."""

from __future__ import annotations

import io
import time

from bench.env import Bench, BenchError, rows_csv
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
