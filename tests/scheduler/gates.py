"""Gates in the results database: hold a chosen statement until the test has killed its client.

PostgreSQL triggers, added by the test to its own results database (the
product code is not touched): a statement that matches an armed row of
``sched_gate`` waits (``pg_sleep`` in a loop, inside its transaction) until
the row is disarmed, at most :data:`MAX_HOLD` seconds. The watcher sees the
waiting backend in ``pg_stat_activity``, kills -9 the task process on the
other end of its connection, and disarms the gate, so the retry passes.

- ``score``: the ``INSERT INTO drift_score`` of a window's run (its run row is
  already written in the same open transaction). A kill there must leave no
  run, score or histogram of that attempt.
- ``claim``: the ``UPDATE drift_notification`` that claims a notification for
  delivery, after the alert change and its outbox row were committed: the
  point between the store write and the notification.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

MAX_HOLD = 20

_SQL = f"""
CREATE TABLE sched_gate (
    id serial PRIMARY KEY,
    kind text NOT NULL,
    window_start timestamp,
    feature text, event text, severity text, channel text,
    armed boolean NOT NULL DEFAULT true
);

CREATE FUNCTION sched_hold(gate integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    waited float := 0;
BEGIN
    -- Each statement of a plpgsql loop sees the latest committed state (READ COMMITTED).
    WHILE waited < {MAX_HOLD} AND EXISTS (SELECT 1 FROM sched_gate WHERE id = gate AND armed) LOOP
        PERFORM pg_sleep(0.05);
        waited := waited + 0.05;
    END LOOP;
END $$;

CREATE FUNCTION sched_score_gate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gate integer;
BEGIN
    SELECT g.id INTO gate FROM sched_gate g
    WHERE g.kind = 'score' AND g.armed
      AND EXISTS (SELECT 1 FROM new_rows n WHERE n.window_start = g.window_start)
    LIMIT 1;
    IF gate IS NOT NULL THEN
        PERFORM sched_hold(gate);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sched_score_gate AFTER INSERT ON drift_score
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sched_score_gate();

CREATE FUNCTION sched_claim_gate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gate integer;
BEGIN
    IF OLD.claimed_until IS NULL AND NEW.claimed_until IS NOT NULL AND NEW.sent_at IS NULL THEN
        SELECT g.id INTO gate FROM sched_gate g
        WHERE g.kind = 'claim' AND g.armed AND g.feature = NEW.feature AND g.event = NEW.event
          AND g.severity = NEW.severity AND g.channel = NEW.channel
        LIMIT 1;
        IF gate IS NOT NULL THEN
            PERFORM sched_hold(gate);
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER sched_claim_gate BEFORE UPDATE ON drift_notification
    FOR EACH ROW EXECUTE FUNCTION sched_claim_gate();
"""

#: How a held statement starts, per gate kind (``pg_stat_activity.query``).
STATEMENTS = {"score": "INSERT INTO drift_score", "claim": "UPDATE drift_notification"}


def install(url: str) -> None:
    """Add the gate table and triggers to a migrated results database."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(_SQL)
    engine.dispose()


def arm_score(engine: sa.Engine, window_start: datetime) -> None:
    """Hold the score insert of the window starting at ``window_start`` (aware UTC)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sched_gate (kind, window_start) VALUES ('score', :w)"),
            {"w": window_start.replace(tzinfo=None)},
        )


def arm_claim(engine: sa.Engine, feature: str, event: str, severity: str, channel: str) -> None:
    """Hold the claim of the notification of this alert event on this channel."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sched_gate (kind, feature, event, severity, channel) "
                "VALUES ('claim', :f, :e, :s, :c)"
            ),
            {"f": feature, "e": event, "s": severity, "c": channel},
        )


def held(engine: sa.Engine) -> list[tuple[str, int]]:
    """Backends waiting at a gate: (gate kind, client port)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT query, client_port FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event = 'PgSleep' "
                "AND pid <> pg_backend_pid()"
            )
        ).all()
    out = []
    for query, port in rows:
        for kind, start in STATEMENTS.items():
            if query.lstrip().upper().startswith(start.upper()) and port is not None:
                out.append((kind, int(port)))
    return out


def disarm(engine: sa.Engine, kind: str | None = None) -> None:
    """Open the gates of ``kind`` (all when ``None``)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE sched_gate SET armed = false "
                "WHERE armed AND (CAST(:k AS text) IS NULL OR kind = CAST(:k AS text))"
            ),
            {"k": kind},
        )
