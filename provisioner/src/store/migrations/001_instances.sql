-- Desired state of every tool instance, its sealed secrets, the hooks that
-- ran, and the event log of every step. Rows are never deleted: a removed
-- instance keeps its row (and so its history) after its volumes are purged.
CREATE TABLE instances (
  id                 text PRIMARY KEY,
  organization_id    text NOT NULL,
  organization_slug  text NOT NULL,
  organization_name  text NOT NULL,
  recipe             text NOT NULL,
  recipe_version     text NOT NULL,
  admin_email        text NOT NULL,
  desired            text NOT NULL CHECK (desired IN ('running', 'suspended', 'removed')),
  -- Bumped by every change of desired state; a failed instance is retried when it moves.
  generation         integer NOT NULL DEFAULT 1,
  restart_requested  integer NOT NULL DEFAULT 0,
  restart_done       integer NOT NULL DEFAULT 0,
  phase              text NOT NULL DEFAULT 'provisioning',
  failure_step       text,
  failure_message    text,
  attempts           integer NOT NULL DEFAULT 0,
  -- A failed instance is not retried until its desired state moves on (generation changes).
  failed_generation  integer,
  next_attempt_at    timestamptz,
  removed_at         timestamptz,
  purge_at           timestamptz,
  purged_at          timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instances_organization ON instances (organization_id);

CREATE TABLE instance_secrets (
  instance_id text NOT NULL REFERENCES instances (id),
  name        text NOT NULL,
  sealed      text NOT NULL,
  PRIMARY KEY (instance_id, name)
);

CREATE TABLE hook_runs (
  instance_id text NOT NULL REFERENCES instances (id),
  hook        text NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, hook)
);

CREATE TABLE events (
  seq         bigserial PRIMARY KEY,
  instance_id text NOT NULL REFERENCES instances (id),
  step        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('started', 'succeeded', 'retrying', 'failed')),
  message     text NOT NULL DEFAULT '',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_instance ON events (instance_id, seq);
