-- Crash recovery of claimed steps (@tasker-systems/worker). Everything lives
-- in the schema tasker_worker_js; `DROP SCHEMA tasker_worker_js CASCADE`
-- removes it all, the trigger on tasker.workflow_step_transitions included.
-- Applied by each worker at start, under an advisory lock, when the
-- recorded version is older than this file's.

CREATE SCHEMA IF NOT EXISTS tasker_worker_js;

-- One row per running worker process (incarnation). The process holds the
-- session advisory lock (classid 1953983091, objid lock_key) while it lives
-- and refreshes heartbeat_at every few seconds.
CREATE TABLE IF NOT EXISTS tasker_worker_js.leases (
    incarnation uuid PRIMARY KEY,
    worker_id text NOT NULL,
    lock_key integer NOT NULL UNIQUE,
    hostname text,
    pid integer,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Steps claimed by a worker process of this package, recorded by the trigger
-- below in the claim's own transaction. 'claimed': in_progress under that
-- process; 'reported': its result was stored and the orchestration has not
-- processed it yet. The row goes when the orchestration moves the step on.
CREATE TABLE IF NOT EXISTS tasker_worker_js.claims (
    workflow_step_uuid uuid PRIMARY KEY,
    incarnation uuid NOT NULL,
    state text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS claims_by_incarnation ON tasker_worker_js.claims (incarnation, state);

-- A claim made by a session named twjs-<incarnation> (this package's worker
-- processes name their sessions so) is recorded; claims made by other
-- workers are not ours to recover.
CREATE OR REPLACE FUNCTION tasker_worker_js.track_claims() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner text := substring(current_setting('application_name', true) from '^twjs-([0-9a-f]{32})$');
BEGIN
    IF NEW.to_state = 'in_progress' THEN
        IF owner IS NULL THEN
            DELETE FROM tasker_worker_js.claims WHERE workflow_step_uuid = NEW.workflow_step_uuid;
        ELSE
            INSERT INTO tasker_worker_js.claims (workflow_step_uuid, incarnation, state, changed_at)
            VALUES (NEW.workflow_step_uuid, owner::uuid, 'claimed', now())
            ON CONFLICT (workflow_step_uuid)
            DO UPDATE SET incarnation = EXCLUDED.incarnation, state = 'claimed', changed_at = now();
        END IF;
    ELSIF NEW.from_state = 'in_progress'
          AND NEW.to_state IN ('enqueued_for_orchestration', 'enqueued_as_error_for_orchestration') THEN
        UPDATE tasker_worker_js.claims SET state = 'reported', changed_at = now()
        WHERE workflow_step_uuid = NEW.workflow_step_uuid;
    ELSE
        DELETE FROM tasker_worker_js.claims WHERE workflow_step_uuid = NEW.workflow_step_uuid;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER tasker_worker_js_track_claims
    AFTER INSERT ON tasker.workflow_step_transitions
    FOR EACH ROW
    WHEN (NEW.to_state = 'in_progress'
          OR NEW.from_state IN ('in_progress', 'enqueued_for_orchestration', 'enqueued_as_error_for_orchestration'))
    EXECUTE FUNCTION tasker_worker_js.track_claims();

CREATE TABLE IF NOT EXISTS tasker_worker_js.schema_version (version integer NOT NULL);

-- Whether the orchestration's results queue (a pgmq table) holds a message
-- about this step: a stopping worker waits for it before it ends.
CREATE OR REPLACE FUNCTION tasker_worker_js.result_announced(queue_table text, step uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE message->>''step_uuid'' = $1)', queue_table::regclass)
    INTO found USING step::text;
    RETURN found;
END
$$;
